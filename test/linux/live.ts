// When the Linux tests also boot the kernel under the live real Xen (in QEMU): only with
// XENVM_LINUX_LIVE=1 (a re-check of the goldens, seconds per case), and only when the oracle's
// QEMU, dtc and Debian Xen are present. Shared by boot.test.ts and enhanced.test.ts.
import { ensureOraclePrereqs } from '../../src/oracle/prereqs.ts';

/**
 * '' when the live cases run, else the " [skipped: ...]" suffix for their names. `cost` says
 * how long a case takes; `noAssets` is the suffix already found for a missing kernel.
 */
export async function linuxLiveSkip(cost: string, noAssets: string): Promise<string> {
  if (process.env.XENVM_LINUX_LIVE !== '1') return ` [skipped: ${cost}; set XENVM_LINUX_LIVE=1]`;
  const oracle = await ensureOraclePrereqs({ install: false });
  return oracle.ok ? noAssets : ` [skipped: ${oracle.error.split('\n')[0]}]`;
}
