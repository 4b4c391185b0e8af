// xenvm-emu: the command-line entry. Parses the subcommand and hands the rest of argv to it;
// each subcommand module owns its options, help text and exit code.
const USAGE = `usage: xenvm-emu <command> [options]

commands:
  run IMAGE...          run guest images under the emulator, one domain each (d1, d2, ...)
  demo                  two domains exchanging event-channel notifications, with a hypercall trace
  reference IMAGE...    run the same images under the real Xen 4.17 (in QEMU) and print the transcript
  diff IMAGE...         run both and show per-domain differences (exit 0 only when equal)
  check --seeds A..B IMAGE...  run under many schedules with the protocol checker (docs/check.md)
  trace FILE.jsonl      re-render a saved JSONL trace as text, with a summary
  fetch-engine          fetch Unicorn 2.1 (Debian trixie's package) into ~/.cache/xenvm-emu/engine

'xenvm-emu <command> --help' describes each command; 'xenvm-emu --version' prints the
project's version and the CPU engine's (Unicorn 2.1 or later is required).`;

type Main = (argv: string[]) => Promise<number>;

const commands: Record<string, () => Promise<Main>> = {
  run: async () => (await import('./run.ts')).runMain,
  demo: async () => (await import('./demo.ts')).demoMain,
  reference: async () => (await import('./reference.ts')).referenceMain,
  diff: async () => (await import('./diff.ts')).diffMain,
  trace: async () => (await import('./trace.ts')).traceMain,
  check: async () => (await import('./check.ts')).checkMain,
  'fetch-engine': async () => (await import('./fetch-engine.ts')).fetchEngineMain,
};

export async function main(argv: string[]): Promise<number> {
  const [cmd, ...rest] = argv;
  if (cmd === undefined || cmd === '-h' || cmd === '--help' || cmd === 'help') {
    process.stdout.write(USAGE + '\n');
    return cmd === undefined ? 2 : 0;
  }
  if (cmd === '--version' || cmd === '-V' || cmd === 'version') return (await import('./version.ts')).versionMain();
  const load = commands[cmd];
  if (!load) {
    process.stderr.write(`xenvm-emu: unknown command '${cmd}'\n\n${USAGE}\n`);
    return 2;
  }
  return (await load())(rest);
}

const code = await main(process.argv.slice(2));
// Flush stdout before leaving: piping into `head` or a file must not lose the transcript.
process.stdout.write('', () => process.exit(code));
