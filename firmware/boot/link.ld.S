/* SPDX-License-Identifier: MIT */
/*
 * Linker script, run through the C preprocessor with the board header so
 * the link address comes from the devicetree: Xen loads an Image with
 * text_offset 0 at the start of RAM bank 0.
 */
#include <board.h>

OUTPUT_FORMAT("elf64-littleaarch64")
OUTPUT_ARCH(aarch64)
ENTRY(_start)

/* Separate R-X and RW- segments (no RWX load segment). */
PHDRS
{
	text PT_LOAD FLAGS(5);
	data PT_LOAD FLAGS(6);
}

SECTIONS
{
	. = BOARD_RAM_BASE;
	_image_start = .;

	.text : {
		KEEP(*(.text.head))
		*(.text.vectors)
		*(.text .text.*)
	} :text

	.rodata : ALIGN(8) {
		*(.rodata .rodata.*)
	} :text

	. = ALIGN(4096);
	.data : {
		*(.data .data.*)
	} :data

	.bss (NOLOAD) : ALIGN(16) {
		__bss_start = .;
		*(.bss .bss.*)
		*(COMMON)
		. = ALIGN(16);
		__bss_end = .;
	} :data

	_image_end = .;
	_image_size = _image_end - _image_start;

	/DISCARD/ : {
		*(.comment)
		*(.note .note.*)
		*(.eh_frame .eh_frame_hdr)
		*(.interp .dynamic .dynsym .dynstr .hash .gnu.hash)
	}
}
