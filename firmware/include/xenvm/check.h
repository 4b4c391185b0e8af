/* SPDX-License-Identifier: MIT */
/*
 * Declares that an app breaks a protocol-checker rule on purpose (it probes
 * how Xen answers a misuse), so `xenvm-emu run --check` does not report that
 * rule for it (docs/check.md). Use at file scope, with the rule's name in
 * underscores: XENVM_CHECK_ALLOW(use_after_close);
 *
 * It defines an absolute ELF symbol, xenvm_check_allow_<rule>: it takes no
 * memory and survives --gc-sections; the checker reads the image's symbols.
 */
#ifndef XENVM_CHECK_H
#define XENVM_CHECK_H

#define XENVM_CHECK_ALLOW(rule) \
	__asm__(".globl xenvm_check_allow_" #rule "\n.set xenvm_check_allow_" #rule ", 0\n")

#endif
