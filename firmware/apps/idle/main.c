// SPDX-License-Identifier: MIT
/*
 * idle: prints nothing and waits for interrupts forever, with them masked, so it never wakes.
 * It is the dom0 that Xen 4.17 requires before it builds an enhanced dom0less domU
 * ("Xenstore support requires dom0 to be present"): the domU is the guest under test and this
 * domain only has to exist. The reference runner does not wait for it to finish.
 */
#include <xenvm/arch.h>

int main(void)
{
	irq_disable();
	for (;;)
		wfi();
	return 0;
}
