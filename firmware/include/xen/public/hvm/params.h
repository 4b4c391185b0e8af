/* SPDX-License-Identifier: MIT */
/*
 * HVM parameter indices for HVMOP_get_param / HVMOP_set_param.
 * Numbers from Xen 4.17 xen/include/public/hvm/params.h; wording ours.
 */
#ifndef XEN_PUBLIC_HVM_PARAMS_H
#define XEN_PUBLIC_HVM_PARAMS_H

/*
 * How event-channel upcalls reach vCPU 0. On Arm Xen fills it in itself:
 * bits 63:56 = type (2 = PPI on Arm), bits 15:8 = flags (bit 8: edge(1) /
 * level(0), bit 9: active low(1) / high(0)), bits 7:0 = the PPI's INTID.
 */
#define HVM_PARAM_CALLBACK_IRQ            0
#define HVM_PARAM_CALLBACK_IRQ_TYPE_SHIFT 56
#define HVM_PARAM_CALLBACK_IRQ_TYPE_MASK  (0xFFULL << 56)
#define HVM_PARAM_CALLBACK_TYPE_GSI       0
#define HVM_PARAM_CALLBACK_TYPE_PCI_INTX  1
#define HVM_PARAM_CALLBACK_TYPE_PPI       2  /* Arm meaning of type 2 */
#define HVM_PARAM_CALLBACK_TYPE_PPI_FLAG_SHIFT 8
#define HVM_PARAM_CALLBACK_TYPE_PPI_FLAG_MASK  (0xFFULL << 8)
#define HVM_PARAM_CALLBACK_TYPE_PPI_FLAG_EDGE      1
#define HVM_PARAM_CALLBACK_TYPE_PPI_FLAG_LOW_LEVEL 2

/* Xenstore ring page and its event channel. */
#define HVM_PARAM_STORE_PFN      1
#define HVM_PARAM_STORE_EVTCHN   2

/* PV console ring page and its event channel. */
#define HVM_PARAM_CONSOLE_PFN    17
#define HVM_PARAM_CONSOLE_EVTCHN 18

#define HVM_NR_PARAMS 39

#endif
