#!/bin/sh
# SPDX-License-Identifier: MIT
#
# check-images.sh BUILD "BOARDS" "APPS": structural checks of the outputs.
#  - each .img starts with an arm64 Image header: code0 is a B instruction,
#    text_offset 0, flags 0x2 (LE, 4 KiB), magic "ARM\x64" at byte 56,
#    image_size covering the file;
#  - the ELF entry is the board's RAM base, VBAR target 2 KiB aligned;
#  - board.h agrees with the board's DTB on the event-channel INTID.
# Prints "N passed, N failed" and exits non-zero on any failure.
set -u

build=$1 boards=$2 apps=$3
pass=0 fail=0

ok() { pass=$((pass + 1)); }
bad() { fail=$((fail + 1)); echo "FAIL: $*"; }

# u32/u64 little-endian at byte offset of a file, as decimal.
u32() { od -An -tu4 -j "$2" -N4 "$1" | tr -d ' '; }
u64() { od -An -tu8 -j "$2" -N8 "$1" | tr -d ' '; }

nm=${NM:-${CROSS_COMPILE:-aarch64-linux-gnu-}nm}
command -v "$nm" >/dev/null 2>&1 || nm=llvm-nm

for b in $boards; do
	h=$build/$b/board.h
	ram=$(sed -n 's/^#define BOARD_RAM_BASE \(.*\)/\1/p' "$h")
	set -- $(fdtget -t u "$build/$b/board.dtb" /hypervisor interrupts)
	if [ "$1" = 1 ]; then want=$(($2 + 16)); else want=$(($2 + 32)); fi
	got=$(sed -n 's/^#define BOARD_XEN_EVTCHN_INTID \(.*\)/\1/p' "$h")
	[ "$got" = "$want" ] && ok || bad "$b: board.h INTID $got, DTB says $want"

	for a in $apps; do
		img=$build/$b/$a.img elf=$build/$b/$a.elf
		[ -f "$img" ] || { bad "$b/$a: no image"; continue; }
		code0=$(u32 "$img" 0)
		[ $((code0 >> 26)) -eq 5 ] && ok || bad "$b/$a: code0 is not a B instruction"
		[ "$(u64 "$img" 8)" = 0 ] && ok || bad "$b/$a: text_offset not 0"
		[ "$(u64 "$img" 24)" = 2 ] && ok || bad "$b/$a: flags not 0x2"
		[ "$(dd if="$img" bs=1 skip=56 count=4 2>/dev/null | od -An -c | tr -d ' ')" = 'ARMd' ] &&
			ok || bad "$b/$a: no ARM\\x64 magic"
		[ "$(u64 "$img" 16)" -ge "$(stat -c %s "$img")" ] && ok || bad "$b/$a: image_size < file size"
		entry=$(od -An -tx8 -j 24 -N8 "$elf" | tr -d ' ')
		[ $((0x$entry)) -eq $((ram)) ] && ok || bad "$b/$a: ELF entry 0x$entry != RAM base $ram"
		vec=$("$nm" "$elf" | sed -n 's/^\([0-9a-f]*\) T exception_vectors$/\1/p')
		[ -n "$vec" ] && [ $((0x$vec & 0x7ff)) -eq 0 ] && ok || bad "$b/$a: vectors not 2 KiB aligned"
	done
done

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
