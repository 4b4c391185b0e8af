import { DOMID_SELF } from '../abi.ts';
import type { XenDomain } from '../domain.ts';
import type { ErrnoName } from '../errno.ts';
import type { XsmPolicy } from '../hypervisor.ts';
import type { EvtchnXsm } from '../evtchn/event-channels.ts';

/**
 * Xen's XSM decisions for the hooks this emulator reaches (xen/include/xsm/dummy.h and
 * xen/xsm/silo.c). `null` means allowed.
 *
 * Dummy's default action: XSM_HOOK always passes; XSM_TARGET passes for the domain itself;
 * XSM_DM_PRIV for a device model of the target (none here); XSM_PRIV, and every fall-through,
 * only for the control domain (`privileged`). Anything else is -EPERM.
 *
 * SILO is dummy plus one rule on the evtchn_unbound / evtchn_interdomain hooks and the grant
 * map/unmap/copy hooks: the two domains must be the same, or one of them (or the
 * caller) the control domain; otherwise -EPERM. For evtchn_unbound it first looks the remote
 * domain up (DOMID_SELF is the caller) and answers -ESRCH if there is none.
 */
export class Xsm implements EvtchnXsm {
  constructor(
    readonly policy: XsmPolicy,
    /** rcu_lock_domain_by_id */
    private readonly findDomain: (domid: number) => XenDomain | undefined,
  ) {}

  hook(): ErrnoName | null {
    return null;
  }

  target(src: XenDomain, target: XenDomain): ErrnoName | null {
    return src === target || src.privileged ? null : 'EPERM';
  }

  /** XSM_DM_PRIV: the device model of `target`; no domain here has one, so control only. */
  dmPriv(src: XenDomain): ErrnoName | null {
    return src.privileged ? null : 'EPERM';
  }

  priv(src: XenDomain): ErrnoName | null {
    return src.privileged ? null : 'EPERM';
  }

  /** silo_mode_dom_check */
  private siloAllows(caller: XenDomain, a: XenDomain, b: XenDomain): boolean {
    return caller.privileged || a.privileged || b.privileged || a === b;
  }

  evtchnUnbound(caller: XenDomain, d: XenDomain, remoteDomid: number): ErrnoName | null {
    if (this.policy === 'silo') {
      const remote = remoteDomid === DOMID_SELF ? caller : this.findDomain(remoteDomid);
      if (!remote) return 'ESRCH';
      if (!this.siloAllows(caller, d, remote)) return 'EPERM';
    }
    return this.target(caller, d);
  }

  evtchnInterdomain(ld: XenDomain, rd: XenDomain): ErrnoName | null {
    if (this.policy === 'silo' && !this.siloAllows(ld, ld, rd)) return 'EPERM';
    return this.hook();
  }

  evtchnStatus(caller: XenDomain, d: XenDomain): ErrnoName | null {
    return this.target(caller, d);
  }

  evtchnReset(caller: XenDomain, d: XenDomain): ErrnoName | null {
    return this.target(caller, d);
  }

  /**
   * xsm_grant_mapref / grant_unmapref / grant_copy: XSM_HOOK under dummy; silo wants the two
   * domains the same or one of them (or the caller) the control domain.
   */
  grant(caller: XenDomain, a: XenDomain, b: XenDomain): ErrnoName | null {
    if (this.policy === 'silo' && !this.siloAllows(caller, a, b)) return 'EPERM';
    return this.hook();
  }

  /** xsm_console_io: a console domain (dom0less domUs are) may use it; others need XSM_PRIV. */
  consoleIo(d: XenDomain, isConsole: boolean): ErrnoName | null {
    return isConsole ? this.hook() : this.priv(d);
  }
}
