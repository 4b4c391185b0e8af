import { ConsoleIo } from '../abi.ts';
import { Errno } from '../errno.ts';
import type { HypercallHandler } from '../hypercall.ts';
import { handle } from '../evtchn/codec.ts';
import type { XenOpsContext } from './context.ts';

/** guest_console_write copies at most this many bytes per round (a 128-byte buffer with its NUL). */
const CHUNK = 127;
/**
 * Bytes one call copies before it is continued (Xen checks hypercall_preempt_check between
 * rounds and creates a continuation; it preempts on time, this on work, which the guest cannot
 * tell apart). 64 KiB is well under a millisecond here: a count of 0xffffffff scanning a
 * 1 GiB domain's RAM no longer holds the machine for seconds (issue 14, item 2).
 */
export const CONSOLE_WRITE_STEP = 64 * 1024;
/** DOMAIN_PBUF_SIZE: a domU's partial line is flushed when it would not fit. */
const DOMAIN_PBUF_SIZE = 200;

/** Xen's isprint on an (unsigned, on Arm) char: ASCII printables and Latin-1 0xA0..0xFF. */
function isPrint(c: number): boolean {
  return (c >= 0x20 && c <= 0x7e) || c >= 0xa0;
}

/**
 * HYPERVISOR_console_io(cmd, count, buffer).
 *
 * Permission (xsm_console_io, dummy and SILO alike): a domain with is_console may use it,
 * and dom0less creates every domU with is_console set; others need privilege (-EPERM).
 *
 * CONSOLEIO_write from a domU is line-buffered per domain: non-printable bytes are dropped,
 * a line is emitted at '\n' (or when the 200-byte buffer would overflow). Real Xen prints
 * it as "(dN) text" at guest debug level, which a release build hides unless booted with
 * guest_loglvl=all; the emulator hands every line to `consoleWrite` and leaves showing it
 * to the machine. The hardware domain's bytes go out unbuffered.
 *
 * CONSOLEIO_read: no serial input ever reaches a domU here, so it reads 0 bytes.
 */
export function consoleIo(x: XenOpsContext): HypercallHandler {
  return (ctx, a) => {
    const cmd = Number(BigInt.asUintN(32, a[0] ?? 0n));
    const count = Number(BigInt.asUintN(32, a[1] ?? 0n));
    const buf = handle(a[2]);
    const me = ctx.domain;
    const st = x.domainState.get(me.domid)!;
    ctx.op = cmd === ConsoleIo.write ? 'CONSOLEIO_write' : cmd === ConsoleIo.read ? 'CONSOLEIO_read' : `CONSOLEIO_${cmd}`;
    ctx.args = { count };

    const denied = x.xsm.consoleIo(me, st.isConsole || me.privileged);
    if (denied) return -Errno[denied];

    if (cmd === ConsoleIo.read) return count > 0x7fffffff ? -Errno.E2BIG : 0;
    if (cmd !== ConsoleIo.write) return -Errno.ENOSYS;

    let text = '';
    for (let pos = 0; pos < count; ) {
      if (pos >= CONSOLE_WRITE_STEP) {
        // The rest later: x1 = what is left, x2 = where it starts (Xen's "iih" continuation).
        // The trace says so: the call goes on with this many bytes (x0 is not returned yet).
        ctx.out = { ...(text ? { lines: text } : {}), continued: count - pos };
        ctx.outcome = { kind: 'continuation', args: [a[0] ?? 0n, BigInt(count - pos), BigInt.asUintN(64, buf + BigInt(pos))] };
        return 0;
      }
      const n = Math.min(count - pos, CHUNK);
      const chunk = ctx.guest.copyFrom(BigInt.asUintN(64, buf + BigInt(pos)), n);
      if (!chunk) return -Errno.EFAULT;
      if (me.privileged) {
        x.hv.consoleWrite(me.domid, new TextDecoder('latin1').decode(chunk), 'console_io');
        pos += n;
        continue;
      }
      let kept = '';
      let consumed = 0;
      let c = 0;
      while (consumed < n) {
        c = chunk[consumed++];
        if (c === 0x0a) break;
        if (isPrint(c) || c === 0x09) kept += String.fromCharCode(c);
      }
      if (c !== 0x0a && st.consoleLine.length + kept.length < DOMAIN_PBUF_SIZE - 1) {
        st.consoleLine += kept;
      } else {
        const line = st.consoleLine + kept;
        st.consoleLine = '';
        text += line + '\n';
        x.hv.consoleWrite(me.domid, line + '\n', 'console_io');
      }
      pos += consumed;
    }
    if (text) ctx.out = { lines: text };
    return 0;
  };
}
