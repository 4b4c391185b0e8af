/**
 * xenvm-emu as a library: `import { createMachine } from 'xenvm-emu'`. See docs/api.md.
 */
export {
  buildMachine,
  createMachine,
  XenvmMachine,
  type ConsoleLine,
  type DomainConfig,
  type DomainInfo,
  type EventChannelInfo,
  type LineMatch,
  type MachineConfig,
  type RunEndReason,
  type RunReport,
  type WaitOptions,
} from './machine.ts';
export { XenvmError, type XenvmErrorKind } from './errors.ts';
export type { CheckReport } from '../check/checker.ts';
export type { TraceEvent } from '../trace/events.ts';
export type { GdbRunOptions } from '../machine/run.ts';
export type { Result } from '../machine/result.ts';
