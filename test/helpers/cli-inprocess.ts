// Runs a subcommand's main function (runMain, traceMain, ...) in this process, with what it
// writes to stdout and stderr captured: the command line without a process spawn per case.
export interface CliResult {
  status: number;
  stdout: string;
  stderr: string;
  /** Set when the command threw instead of returning an exit status (always a bug). */
  threw?: unknown;
}

export async function inProcess(cmd: (argv: string[]) => Promise<number>, argv: string[]): Promise<CliResult> {
  let stdout = '';
  let stderr = '';
  const out = process.stdout.write;
  const err = process.stderr.write;
  const capture = (add: (s: string) => void) =>
    ((chunk: string | Uint8Array, ...rest: unknown[]) => {
      add(typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8'));
      const cb = rest.find((r) => typeof r === 'function') as (() => void) | undefined;
      cb?.();
      return true;
    }) as typeof process.stdout.write;
  process.stdout.write = capture((s) => (stdout += s));
  process.stderr.write = capture((s) => (stderr += s));
  try {
    const status = await cmd(argv);
    return { status, stdout, stderr };
  } catch (e) {
    return { status: -1, stdout, stderr, threw: e };
  } finally {
    process.stdout.write = out;
    process.stderr.write = err;
  }
}
