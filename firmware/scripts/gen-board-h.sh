#!/bin/sh
# SPDX-License-Identifier: MIT
#
# gen-board-h.sh BOARD DTB OUT
#
# Derives the C view of a board (build/<board>/board.h) from its compiled
# devicetree, so that the DTS stays the single source of truth: the guest and
# the host emulator read the same numbers. Uses only fdtget (device-tree-compiler).
#
# Nodes are found by "compatible" (or device_type for memory), not by path, the
# way an OS would probe them.

set -eu

board=$1
dtb=$2
out=$3

die() { echo "gen-board-h: $board: $*" >&2; exit 1; }

command -v fdtget >/dev/null 2>&1 || die "fdtget not found (install device-tree-compiler)"

get() { fdtget "$@" 2>/dev/null; }

root_ac=$(get -t u "$dtb" / '#address-cells' || echo 2)
root_sc=$(get -t u "$dtb" / '#size-cells' || echo 1)

# Paths of the root's direct children.
nodes=$(get -l "$dtb" /) || die "cannot list nodes of $dtb"

# find_compat STRING: first root child whose compatible list contains STRING.
find_compat() {
	for n in $nodes; do
		for c in $(get -t s "$dtb" "/$n" compatible || true); do
			if [ "$c" = "$1" ]; then echo "/$n"; return 0; fi
		done
	done
	return 1
}

# reg_field PATH INDEX FIELD: FIELD is "addr" or "size" of the INDEX-th reg
# entry, printed as 0x... (cells combined using the root's #address/#size-cells).
reg_field() {
	set -- "$1" "$2" "$3" $(get -t x "$dtb" "$1" reg) || die "no reg in $1"
	path=$1 idx=$2 field=$3
	shift 3
	stride=$((root_ac + root_sc))
	skip=$((idx * stride))
	[ $# -ge $((skip + stride)) ] || die "$path: reg has no entry $idx"
	shift $skip
	if [ "$field" = size ]; then shift "$root_ac"; n=$root_sc; else n=$root_ac; fi
	v=0
	while [ "$n" -gt 0 ]; do v=$(( (v << 32) | 0x$1 )); shift; n=$((n - 1)); done
	printf '0x%x' "$v"
}

# GIC
gic=$(find_compat arm,gic-v3) && gic_version=3 || {
	gic=$(find_compat arm,gic-400 || find_compat arm,cortex-a15-gic) && gic_version=2
} || die "no GICv2/GICv3 node"

# Xen hypervisor node and its event-channel interrupt.
xen=$(find_compat xen,xen) || die "no node compatible with \"xen,xen\""
set -- $(get -t u "$dtb" "$xen" interrupts) || die "$xen has no interrupts"
[ $# -eq 3 ] || die "$xen: expected one 3-cell interrupt, got '$*'"
case $1 in
	0) evt_intid=$(($2 + 32)) ;;	# SPI
	1) evt_intid=$(($2 + 16)) ;;	# PPI
	*) die "$xen: unknown interrupt type $1" ;;
esac
evt_flags=$3

# UART (Xen's vpl011 is an SBSA UART; accept a full PL011 too).
uart=$(find_compat arm,sbsa-uart || find_compat arm,pl011) || die "no UART node"

# Memory: first node with device_type = "memory".
mem=
for n in $nodes; do
	if [ "$(get -t s "$dtb" "/$n" device_type || true)" = memory ]; then mem=/$n; break; fi
done
[ -n "$mem" ] || die "no memory node"

# Timer PPIs (order fixed by the arm,armv8-timer binding: sec phys, phys,
# virt, hyp).
timer=$(find_compat arm,armv8-timer) || die "no arm,armv8-timer node"
set -- $(get -t u "$dtb" "$timer" interrupts)
[ $# -ge 9 ] || die "$timer: expected at least 3 interrupts"
timer_phys_intid=$(($5 + 16))
timer_virt_intid=$(($8 + 16))

nr_cpus=0
for c in $(get -l "$dtb" /cpus); do
	case $c in cpu@*) nr_cpus=$((nr_cpus + 1)) ;; esac
done

model=$(get -t s "$dtb" / model || echo "$board")
guard=$(echo "BOARD_H_$board" | tr 'a-z-' 'A-Z_')

tmp=$out.tmp.$$
{
	echo "/* Generated from $(basename "$dtb") by scripts/gen-board-h.sh: do not edit. */"
	echo "#ifndef $guard"
	echo "#define $guard"
	echo
	echo "#define BOARD_NAME \"$board\""
	echo "#define BOARD_MODEL \"$model\""
	echo "#define BOARD_NR_CPUS $nr_cpus"
	echo
	echo "#define BOARD_RAM_BASE $(reg_field "$mem" 0 addr)"
	echo "#define BOARD_RAM_SIZE $(reg_field "$mem" 0 size)"
	echo
	echo "#define BOARD_GIC_VERSION $gic_version"
	echo "#define BOARD_GICD_BASE $(reg_field "$gic" 0 addr)"
	echo "#define BOARD_GICD_SIZE $(reg_field "$gic" 0 size)"
	if [ "$gic_version" = 3 ]; then
		echo "#define BOARD_GICR_BASE $(reg_field "$gic" 1 addr)"
		echo "#define BOARD_GICR_SIZE $(reg_field "$gic" 1 size)"
	else
		echo "#define BOARD_GICC_BASE $(reg_field "$gic" 1 addr)"
		echo "#define BOARD_GICC_SIZE $(reg_field "$gic" 1 size)"
	fi
	echo
	echo "/* Xen event-channel upcall: INTID (PPI + 16, SPI + 32) and DT flags. */"
	echo "#define BOARD_XEN_EVTCHN_INTID $evt_intid"
	printf '#define BOARD_XEN_EVTCHN_FLAGS 0x%x\n' "$evt_flags"
	echo
	echo "#define BOARD_UART_BASE $(reg_field "$uart" 0 addr)"
	echo
	echo "#define BOARD_TIMER_PHYS_INTID $timer_phys_intid"
	echo "#define BOARD_TIMER_VIRT_INTID $timer_virt_intid"
	echo
	echo "#endif"
} >"$tmp"

# Only touch the header when its content changes, so dependents rebuild only
# when the board really changed.
if cmp -s "$tmp" "$out" 2>/dev/null; then rm -f "$tmp"; else mv "$tmp" "$out"; fi
