// QEMU as the board for the real Xen: argument vectors (pure) and one supervised child
// process that is always reaped. The machine options must be identical for the DTB dump
// and the real boot, because QEMU's DTB describes exactly the machine it was asked for.
import { spawn, type ChildProcess } from 'node:child_process';

export interface MachineSpec {
  gic: 2 | 3;
  /** Host RAM for Xen and all guests. */
  ramMiB: number;
  cpu: string;
  /**
   * QEMU -icount value, or undefined for the host clock. With `shift=7,sleep=off` every
   * guest instruction advances virtual time by 128 ns and idle time is skipped: Xen's
   * 3-second warning countdown (printed with xsm=dummy) takes milliseconds, and a run
   * with one vCPU and no input becomes repeatable (same interleaving every time).
   */
  icount?: string;
}

export const DEFAULT_MACHINE: Omit<MachineSpec, 'gic'> = { ramMiB: 1024, cpu: 'cortex-a57', icount: 'shift=7,sleep=off' };

function machineArgs(m: MachineSpec, dumpDtbTo?: string): string[] {
  const machine = `virt,virtualization=on,gic-version=${m.gic}` + (dumpDtbTo ? `,dumpdtb=${dumpDtbTo}` : '');
  return [
    '-machine', machine,
    '-cpu', m.cpu,
    '-smp', '1',
    '-m', String(m.ramMiB),
    // No network: the virt board's default NIC wants efi-virtio.rom from ipxe-qemu, which a
    // --no-install-recommends install of qemu-system-arm does not bring.
    '-nic', 'none',
    ...(m.icount ? ['-icount', m.icount] : []),
  ];
}

/** QEMU writes its generated DTB to `out` and exits. */
export function dumpDtbArgs(m: MachineSpec, out: string): string[] {
  return [...machineArgs(m, out), '-display', 'none', '-monitor', 'none', '-serial', 'none'];
}

export interface Loader {
  file: string;
  addr: number;
}

/**
 * Boot Xen as the "kernel" with our DTB. The serial is stdio without QEMU's mux (that is
 * what -nographic would add), so Ctrl-A reaches Xen, which needs it to switch its serial
 * input. -no-reboot: when Xen resets the board (panic, dom0 reboot) QEMU exits instead.
 */
export function bootArgs(m: MachineSpec, xen: string, dtb: string, loaders: Loader[]): string[] {
  return [
    ...machineArgs(m),
    '-display', 'none',
    '-monitor', 'none',
    '-serial', 'stdio',
    '-no-reboot',
    '-kernel', xen,
    '-dtb', dtb,
    ...loaders.flatMap((l) => ['-device', `loader,file=${l.file},addr=0x${l.addr.toString(16)},force-raw=on`]),
  ];
}

/** Every QEMU we started that has not exited yet; killed if Node exits first. */
const live = new Set<ChildProcess>();
let exitHookInstalled = false;

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', () => {
    for (const p of live) p.kill('SIGKILL');
  });
}

export interface QemuSession {
  /** Resolves once the process has exited and been reaped. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  write(data: string): void;
  /** SIGKILL (idempotent) and wait for the exit. */
  kill(): Promise<void>;
}

export function startQemu(
  qemu: string,
  args: string[],
  onOutput: (chunk: string, stream: 'stdout' | 'stderr') => void,
): QemuSession {
  installExitHook();
  const child = spawn(qemu, args, { stdio: ['pipe', 'pipe', 'pipe'] });
  live.add(child);
  child.stdout!.setEncoding('latin1');
  child.stderr!.setEncoding('latin1');
  child.stdout!.on('data', (c: string) => onOutput(c, 'stdout'));
  child.stderr!.on('data', (c: string) => onOutput(c, 'stderr'));
  // A write after QEMU died raises EPIPE on the stream; the exit is reported elsewhere.
  child.stdin!.on('error', () => {});
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((done) => {
    child.on('error', () => {
      live.delete(child);
      done({ code: -1, signal: null });
    });
    child.on('close', (code, signal) => {
      live.delete(child);
      done({ code, signal });
    });
  });
  return {
    exited,
    write(data: string) {
      if (child.stdin!.writable) child.stdin!.write(data, 'latin1');
    },
    async kill() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await exited;
    },
  };
}

/** Run a short-lived command to completion, collecting its output. */
export function runToEnd(
  cmd: string,
  args: string[],
  input?: string,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((done) => {
    const child = spawn(cmd, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (c: string) => (stdout += c));
    child.stderr.setEncoding('utf8').on('data', (c: string) => (stderr += c));
    child.stdin.on('error', () => {});
    child.on('error', (e) => done({ code: -1, stdout, stderr: stderr + String(e) }));
    child.on('close', (code) => done({ code, stdout, stderr }));
    child.stdin.end(input ?? '');
  });
}
