/**
 * The library's one exception type. Its message is the text the command line prints after
 * "xenvm-emu: ", and `exitCode` is the status `xenvm-emu run` would exit with, so a test can
 * assert on either. Operations that fail for an expected reason also have a `Result`-returning
 * form (`XenvmMachine.build`, `injectEvent`); the throwing forms wrap the same error.
 */
export type XenvmErrorKind =
  /** A missing or malformed image, devicetree or option (exit status 2). */
  | 'bad-input'
  /** A `waitForLine` timeout passed without a matching line. */
  | 'timeout'
  /** The run ended (finished, limit, deadlock, closed) before a matching line was printed. */
  | 'run-ended'
  /** A host-side request named a port or domain that cannot take it. */
  | 'bad-request';

export class XenvmError extends Error {
  readonly kind: XenvmErrorKind;
  /** The exit status the command line uses for this error (2 for bad input). */
  readonly exitCode: number;

  constructor(kind: XenvmErrorKind, message: string, exitCode = kind === 'bad-input' ? 2 : 1) {
    super(message);
    this.name = 'XenvmError';
    this.kind = kind;
    this.exitCode = exitCode;
  }
}
