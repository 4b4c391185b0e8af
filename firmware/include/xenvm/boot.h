/* SPDX-License-Identifier: MIT */
/* What boot/head.S hands to C. */
#ifndef XENVM_BOOT_H
#define XENVM_BOOT_H

#include <stdint.h>

/* Physical address of the devicetree blob Xen passed in x0. */
extern uint64_t boot_dtb_addr;

/* Linker-script symbols. */
extern char _image_start[], _image_end[], __bss_start[], __bss_end[];

/* The application's entry point; returning from it powers the domain off. */
int main(void);

#endif
