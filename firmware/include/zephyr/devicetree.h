/* SPDX-License-Identifier: MIT */
/*
 * The slice of Zephyr's devicetree macro API that Xen drivers use, resolved
 * from the board header that scripts/gen-board-h.sh generates from the
 * board DTS (build/<board>/board.h), so the DTS stays the one source:
 *
 *   DT_IRQ_BY_IDX(DT_INST(0, xen_xen), 0, irq)      -> BOARD_XEN_EVTCHN_INTID
 *   DT_IRQ_BY_IDX(DT_INST(0, xen_xen), 0, priority) -> GIC priority 0xa0
 *   DT_IRQ_BY_IDX(DT_INST(0, xen_xen), 0, flags)    -> BOARD_XEN_EVTCHN_FLAGS
 *   (and DT_INST_IRQ_BY_IDX(0, 0, cell) with DT_DRV_COMPAT xen_xen, the same)
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

/*
 * Instance-based forms, for drivers that `#define DT_DRV_COMPAT xen_xen`
 * before their includes (Zephyr's convention): DT_DRV_INST(0) is
 * DT_INST(0, DT_DRV_COMPAT). The extra level lets DT_DRV_COMPAT expand to
 * its token before DT_INST pastes it.
 */
#define DT_DRV_INST(inst)                       Z_SHIM_DT_DRV_INST(inst, DT_DRV_COMPAT)
#define Z_SHIM_DT_DRV_INST(inst, compat)        DT_INST(inst, compat)
#define DT_INST_IRQ_BY_IDX(inst, idx, cell)     DT_IRQ_BY_IDX(DT_DRV_INST(inst), idx, cell)
#define DT_INST_IRQ(inst, cell)                 DT_INST_IRQ_BY_IDX(inst, 0, cell)
#define DT_INST_IRQN(inst)                      DT_INST_IRQ_BY_IDX(inst, 0, irq)
#define DT_INST_NUM_IRQS(inst)                  DT_NUM_IRQS(DT_DRV_INST(inst))
#define DT_NUM_INST_STATUS_OKAY(compat)         Z_SHIM_DT_CAT(DT_NUM_INST_OKAY_, compat)

/* The hypervisor node: compatible "xen,xen". */
#define DT_COMPAT_HAS_OKAY_xen_xen                1
#define DT_NUM_INST_OKAY_xen_xen                  1
#define DT_N_INST_0_xen_xen_IRQ_NUM               1
#define DT_N_INST_0_xen_xen_IRQ_IDX_0_VAL_irq      BOARD_XEN_EVTCHN_INTID
#define DT_N_INST_0_xen_xen_IRQ_IDX_0_VAL_priority 0xa0
#define DT_N_INST_0_xen_xen_IRQ_IDX_0_VAL_flags    BOARD_XEN_EVTCHN_FLAGS

#endif
