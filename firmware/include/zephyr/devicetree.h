/* SPDX-License-Identifier: MIT */
/*
 * The slice of Zephyr's devicetree macro API that Xen drivers use, resolved
 * from the board header that scripts/gen-board-h.sh generates from the
 * board DTS (build/<board>/board.h), so the DTS stays the one source:
 *
 *   DT_IRQ_BY_IDX(DT_INST(0, xen_xen), 0, irq)      -> BOARD_XEN_EVTCHN_INTID
 *   DT_IRQ_BY_IDX(DT_INST(0, xen_xen), 0, priority) -> GIC priority 0xa0
 *   DT_IRQ_BY_IDX(DT_INST(0, xen_xen), 0, flags)    -> BOARD_XEN_EVTCHN_FLAGS
 *
 * "irq" is already the GIC INTID (PPI number + 16), which is what the
 * firmware's IRQ_CONNECT expects. Only the "xen,xen" node is described.
 */
#ifndef ZEPHYR_SHIM_DEVICETREE_H
#define ZEPHYR_SHIM_DEVICETREE_H

#include <board.h>

/* Node identifiers are tokens: DT_N_INST_<inst>_<compat>. */
#define DT_INST(inst, compat) DT_N_INST_##inst##_##compat

/* One level of indirection so DT_INST(...) expands before pasting. */
#define DT_IRQ_BY_IDX(node_id, idx, cell) Z_SHIM_DT_IRQ(node_id, idx, cell)
#define Z_SHIM_DT_IRQ(node_id, idx, cell) node_id##_IRQ_IDX_##idx##_VAL_##cell
#define DT_IRQ(node_id, cell)             DT_IRQ_BY_IDX(node_id, 0, cell)
#define DT_IRQN(node_id)                  DT_IRQ_BY_IDX(node_id, 0, irq)
#define DT_NUM_IRQS(node_id)              Z_SHIM_DT_CAT(node_id, _IRQ_NUM)
#define Z_SHIM_DT_CAT(a, b)               a##b

#define DT_HAS_COMPAT_STATUS_OKAY(compat) Z_SHIM_DT_CAT(DT_COMPAT_HAS_OKAY_, compat)

/* The hypervisor node: compatible "xen,xen". */
#define DT_COMPAT_HAS_OKAY_xen_xen                1
#define DT_N_INST_0_xen_xen_IRQ_NUM               1
#define DT_N_INST_0_xen_xen_IRQ_IDX_0_VAL_irq      BOARD_XEN_EVTCHN_INTID
#define DT_N_INST_0_xen_xen_IRQ_IDX_0_VAL_priority 0xa0
#define DT_N_INST_0_xen_xen_IRQ_IDX_0_VAL_flags    BOARD_XEN_EVTCHN_FLAGS

#endif
