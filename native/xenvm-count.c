/*
 * xenvm-emu's native helper for Unicorn 2.x: the instruction counter (per block or per
 * instruction), the exception hook that moves a hypercall's registers in one go, the
 * system-register hook that hands generic-timer accesses to the hypervisor, and a watch on IRQ
 * vector entry and return for the trace.
 *
 * Unicorn can bound a run by instruction count, but cannot say how many instructions ran when
 * the run ends early (a hypercall that blocks, WFI, a fault). Deterministic virtual time needs
 * that number, and a JavaScript per-instruction hook costs ~300 ns, so this one lives in C.
 * Installing any code hook also makes the engine keep PC exact per instruction, so faults in
 * counted runs report the faulting instruction itself.
 *
 * Built on first use with the host C compiler (scripts/native.mjs); no Unicorn headers needed.
 */
#include <stddef.h>
#include <stdint.h>

typedef struct uc_struct uc_engine;
int uc_emu_stop(uc_engine *uc);
int uc_hook_add(uc_engine *uc, size_t *hh, int type, void *callback, void *user_data, uint64_t begin, uint64_t end, ...);
int uc_reg_read_batch(uc_engine *uc, int *regs, void **vals, int count);
int uc_reg_write(uc_engine *uc, int regid, const void *value);

#define UC_HOOK_CODE 4
#define UC_HOOK_BLOCK 8
#define UC_HOOK_INTR 1
#define EXCP_HVC 11

/* Register ids of Unicorn 2.0's enum uc_arm64_reg. */
#define REG_X0 199
#define REG_X16 215
#define REG_PC 260
#define REG_CP_REG 290

/*
 * Per-vCPU state shared with JavaScript (src/unicorn/counter.ts views it; offsets in comments).
 * One block for the counter, the interrupt-entry watch and the system-register trap.
 */
struct xenvm_counter {
    uint64_t executed;     /* @0  instructions retired since the counter was last cleared */
    uint64_t limit;        /* @8  stop before the instruction that would exceed this */
    /* Interrupt-entry watch (tracing only). */
    uint64_t vbar;         /* @16 VBAR_EL1 as the guest last wrote it (kept by the sysreg hook) */
    uint64_t ret_addr;     /* @24 a block starting here means the watched interrupt returned */
    uint32_t watch;        /* @32 nonzero: report IRQ vector entries and returns */
    uint32_t event;        /* @36 WATCH_TAKEN or WATCH_RETURNED, for the handler */
    uint64_t event_pc;     /* @40 the block address that matched */
    void (*irq_handler)(void); /* @48 */
    /* System-register trap (the generic timer). */
    uint64_t sys_value;    /* @56 MSR: the value written; MRS: the handler's answer */
    uint32_t sys_op;       /* @64 op0 << 14 | op1 << 11 | CRn << 7 | CRm << 3 | op2 */
    uint32_t sys_rt;       /* @68 0..30, 31 = xzr */
    uint32_t sys_read;     /* @72 1 = MRS */
    uint32_t sys_handled;  /* @76 set by the handler when it emulated the access */
    void (*sys_handler)(void); /* @80 */
    /*
     * SCTLR_EL1 as the guest last wrote it (0 until it does: the MMU is off at reset). The
     * hypervisor reads instructions at exits through the guest's translation only when bit 0
     * (M) is set, so the MMU-off path never asks the engine for a system register.
     */
    uint64_t sctlr;        /* @88 */
    /*
     * Illegal exception returns. The engine (QEMU 5.0's translator) sets PSTATE.IL on an illegal
     * ERET but then runs on instead of raising Illegal Execution State at the target. Only an
     * SPSR_EL1 that the guest wrote itself can make an ERET illegal (exception entry always
     * saves a legal one), so such a write arms a check of PSTATE.IL at every block start, and
     * the first block that starts with it set is stopped before it runs, for the hypervisor to
     * raise the exception. A legal SPSR_EL1 write disarms it.
     */
    uint32_t il_armed;     /* @96 */
    uint32_t pad0;         /* @100 */
    /*
     * Address of the MRS/MSR at which a stop was requested from inside this hook: written here
     * for an illegal SPSR_EL1, by the vCPU when its handler stops the run (it reads PC only
     * then, not per timer access). A stop requested from inside this hook ends the run with PC at the start of the
     * translation block although the instructions before the MRS/MSR in it have run (measured:
     * a Linux function prologue's "stp x29, x30, [sp, #-N]!" ran twice), so the vCPU resumes
     * right after this instruction instead.
     */
    uint64_t sys_pc;       /* @104 */
    /*
     * ID_AA64PFR0_EL1.GIC (bits [27:24]) as the guest must read it: 1 when its GIC is a GICv3
     * whose CPU interface is the ICC_* system registers, which the hypervisor emulates. The
     * engine's CPU has no GIC attached and reads 0 there (QEMU's board would set it).
     */
    uint32_t pfr0_gic;     /* @112 */
    /*
     * TLB and instruction-cache maintenance the guest executed (TLBI, IC: SYS instructions with
     * CRn 8 and CRn 7/CRm 1 or 5), counted only when `maint_watch` is set. Each vCPU of a domain
     * is its own engine with its own TLB and translated code; what one vCPU invalidates (for all
     * of them, as the *IS forms and a PoU IC promise) the machine carries out on the others.
     */
    uint32_t maint_tlbi;   /* @116 */
    uint32_t maint_ic;     /* @120 */
    uint32_t maint_watch;  /* @124 */
    /*
     * Address of the translation block (per-instruction counting: the instruction) that last
     * started. The engine's PC is not up to date inside memory hooks (a stale block start), nor at
     * a stop after it chained one block straight into the next: the protocol checker (src/check)
     * finds a storing instruction, and abort.ts a faulting access, from here.
     */
    uint64_t block_pc;     /* @128 */
    /*
     * Counter reads answered here. A Linux guest reads CNTVCT_EL0 for every printk timestamp
     * and scheduler clock, some 18,000 times in a boot; each one through JavaScript cost about a
     * microsecond. Virtual time is `clock_base + executed` (the hypervisor sets the base before
     * each run: the idle time skipped plus every other vCPU's instructions), so the counter is
     * that divided by the tick. Only while it stays before `clock_due`, the first deadline of
     * this vCPU's timers: from there on a read must also fire the timer (src/xen/vtimer.ts), so
     * it goes to the handler. clock_tick_ns = 0 turns this off (uncounted runs, time past 2^64).
     */
    uint64_t clock_base;   /* @136 */
    uint64_t clock_due;    /* @144 */
    uint32_t clock_tick_ns; /* @152 */
    uint32_t pad1;         /* @156 */
    /*
     * What the block hook's common path compares `executed` with: `limit`, or 0 while il_armed
     * or watch is set, so that one compare sends every block to the slow path then. Whoever
     * changes limit, il_armed or watch recomputes it (refresh_fast_limit here, the same rule in
     * src/unicorn/counter.ts). Measured: bench-compute counted, 600M instructions, 230 -> 216 ms
     * of CPU (uncounted: 165 ms).
     */
    uint64_t fast_limit;   /* @160 */
};

static void refresh_fast_limit(struct xenvm_counter *c)
{
    c->fast_limit = (c->il_armed | c->watch) ? 0 : c->limit;
}

#define WATCH_TAKEN 1
#define WATCH_RETURNED 2

int uc_reg_read(uc_engine *uc, int regid, void *value);
#define REG_PSTATE 265
#define PSTATE_IL (1u << 20)

/* True when PSTATE.IL is set at the start of the block about to run: stop before it. */
static int xenvm_il_check(uc_engine *uc)
{
    uint32_t pstate = 0;
    uc_reg_read(uc, REG_PSTATE, &pstate);
    if (!(pstate & PSTATE_IL))
        return 0;
    uc_emu_stop(uc);
    return 1;
}

/*
 * Whether an ERET from EL1 with this SPSR is illegal (Arm ARM D1.11.6 "Illegal return events
 * from AArch64 state"), for a CPU whose EL1 is AArch64 only and whose EL0 may be AArch32:
 * SPSR.IL set, a target above EL1, M[1] set, EL0 with SP_ELx, or AArch32 at EL1.
 */
static int spsr_illegal(uint64_t spsr)
{
    uint32_t el = (spsr >> 2) & 3;
    if (spsr & PSTATE_IL)
        return 1;
    if (spsr & 0x10) /* M[4]: AArch32 */
        return (spsr & 0xf) != 0; /* only AArch32 User mode (EL0) may be returned to */
    return el > 1 || (spsr & 2) || (el == 0 && (spsr & 1));
}

/*
 * IRQ entries of the vector table (Arm ARM D1.10.2): current EL with SP0 / SPx, lower EL
 * AArch64 / AArch32. The engine takes an IRQ without any callback; the first block it then
 * runs starts at one of these, which is how the trace sees "interrupt taken".
 */
static int is_irq_vector(uint64_t off)
{
    return off == 0x080 || off == 0x280 || off == 0x480 || off == 0x680;
}

static void xenvm_watch(struct xenvm_counter *c, uint64_t address)
{
    if (c->vbar && is_irq_vector(address - c->vbar)) {
        c->event = WATCH_TAKEN;
    } else if (address == c->ret_addr) {
        c->event = WATCH_RETURNED;
    } else {
        return;
    }
    c->event_pc = address;
    c->irq_handler();
}

static void xenvm_count_insn(uc_engine *uc, uint64_t address, uint32_t size, void *user_data)
{
    struct xenvm_counter *c = user_data;
    (void)size;
    /* The hook runs before the instruction: stopping here means it does not retire. */
    if (c->executed >= c->limit) {
        uc_emu_stop(uc);
        return;
    }
    if (c->il_armed && xenvm_il_check(uc))
        return;
    if (c->watch)
        xenvm_watch(c, address);
    c->block_pc = address;
    c->executed++;
}

/*
 * What a block start does besides counting (kept out of line so that the common path below is
 * a leaf function that saves no registers): stop at the budget, the illegal-return check, the
 * interrupt-entry watch.
 */
static __attribute__((noinline)) void xenvm_count_block_slow(uc_engine *uc, uint64_t address, uint32_t size, struct xenvm_counter *c)
{
    if (c->executed >= c->limit) {
        uc_emu_stop(uc);
        return;
    }
    if (c->il_armed && xenvm_il_check(uc))
        return;
    /*
     * After the limit check (a block the limit stops does not run now, and is reported when it
     * does), before counting it: the event's virtual time is that of the block's first instruction.
     */
    if (c->watch)
        xenvm_watch(c, address);
    c->block_pc = address;
    c->executed += size / 4;
}

/*
 * Per translation block: the block's instructions are counted when it starts, so a run may
 * overshoot its budget by less than one block (deterministically). Blocks end at every
 * exception-generating instruction (HVC, SVC, WFI), so counts at hypercalls and WFI are exact.
 * Much cheaper than a per-instruction hook; the first block of a run always executes, so a run
 * always makes progress. The engine calls this before every block the guest runs (a Linux boot:
 * some 170 million times), so the usual case is one compare (with fast_limit), a store and an
 * add, no stack frame (measured: bench-compute counted, 600M instructions, 286-303 -> 230-235
 * ms of CPU with two compares, 216-220 with one; the same image uncounted: 164-183 ms).
 */
static void xenvm_count_block(uc_engine *uc, uint64_t address, uint32_t size, void *user_data)
{
    struct xenvm_counter *c = user_data;
    uint64_t executed = c->executed;
    if (__builtin_expect(executed >= c->fast_limit, 0)) {
        xenvm_count_block_slow(uc, address, size, c);
        return;
    }
    c->block_pc = address;
    c->executed = executed + size / 4;
}

/* granularity: 0 = per block (fast), 1 = per instruction (exact budgets and fault PCs). */
int xenvm_counter_install(uc_engine *uc, struct xenvm_counter *c, int per_instruction)
{
    size_t hh;
    if (per_instruction)
        return uc_hook_add(uc, &hh, UC_HOOK_CODE, (void *)xenvm_count_insn, c, 1, 0);
    return uc_hook_add(uc, &hh, UC_HOOK_BLOCK, (void *)xenvm_count_block, c, 1, 0);
}

/*
 * The exception hook, with the register traffic of a hypercall done here rather than through
 * three JavaScript<->native crossings. For an HVC, x16, x0..x4 and PC are read into `regs`
 * before the JavaScript handler runs; if the handler sets `write_x0`, `ret` goes to x0 after
 * it returns. Every exception (HVC or not) reaches the handler with `intno` set.
 */
struct xenvm_exc {
    uint64_t regs[7];  /* x16, x0, x1, x2, x3, x4, pc (valid when intno == EXCP_HVC) */
    uint64_t ret;      /* value for x0 */
    uint32_t intno;
    uint32_t write_x0; /* set by the handler; cleared here */
    void (*handler)(void);
};

static void xenvm_exc_hook(uc_engine *uc, uint32_t intno, void *user_data)
{
    static int ids[7] = { REG_X16, REG_X0, REG_X0 + 1, REG_X0 + 2, REG_X0 + 3, REG_X0 + 4, REG_PC };
    struct xenvm_exc *e = user_data;
    void *vals[7];
    int i;

    e->intno = intno;
    e->write_x0 = 0;
    if (intno == EXCP_HVC) {
        for (i = 0; i < 7; i++)
            vals[i] = &e->regs[i];
        uc_reg_read_batch(uc, ids, vals, 7);
    }
    e->handler();
    if (e->write_x0) {
        e->write_x0 = 0;
        uc_reg_write(uc, REG_X0, &e->ret);
    }
}

int xenvm_exc_install(uc_engine *uc, struct xenvm_exc *e)
{
    size_t hh;
    return uc_hook_add(uc, &hh, UC_HOOK_INTR, (void *)xenvm_exc_hook, e, 1, 0);
}

/*
 * The system-register hook (UC_HOOK_INSN on MRS and MSR). Unicorn implements the generic timer
 * on the host clock; a deterministic machine needs it on virtual time, so accesses to the
 * timer block (op0 = 3, op1 = 3, CRn = 14: CNTFRQ/CNTPCT/CNTVCT_EL0, CNTP_* and CNTV_*) go to
 * the JavaScript handler, which emulates them or declines. Every other MRS/MSR is left to the
 * engine after a few compares here; the guest does many (exception entry saves ELR/SPSR), and a
 * JavaScript call each would cost about a microsecond. VBAR_EL1 writes are noted for the
 * interrupt-entry watch and then performed as usual.
 */
#define UC_HOOK_INSN 2
#define UC_ARM64_INS_MRS 1
#define UC_ARM64_INS_MSR 2
#define REG_X28 227
#define REG_X29 1
#define REG_X30 2

struct uc_cp_reg {
    uint32_t crn, crm, op0, op1, op2;
    uint64_t val;
};

#define SYS_OP(op0, op1, crn, crm, op2) ((op0) << 14 | (op1) << 11 | (crn) << 7 | (crm) << 3 | (op2))

/* The MRS/MSR's Rt from the engine's register id: 0..30 for x0..x30, 31 for xzr. */
static uint32_t xreg_index(int reg)
{
    if (reg >= REG_X0 && reg <= REG_X28)
        return (uint32_t)(reg - REG_X0);
    return reg == REG_X29 ? 29 : reg == REG_X30 ? 30 : 31;
}

static uint32_t xenvm_sys(uc_engine *uc, int reg, const struct uc_cp_reg *cp, struct xenvm_counter *c, int is_read)
{
    uint32_t op = SYS_OP(cp->op0, cp->op1, cp->crn, cp->crm, cp->op2);

    if (!is_read && op == SYS_OP(3, 0, 12, 0, 0)) { /* VBAR_EL1 */
        c->vbar = cp->val & ~(uint64_t)0x7ff;
        return 0;
    }
    if (!is_read && op == SYS_OP(3, 0, 1, 0, 0)) { /* SCTLR_EL1 */
        c->sctlr = cp->val;
        return 0;
    }
    if (!is_read && op == SYS_OP(3, 0, 4, 0, 0)) { /* SPSR_EL1 */
        c->il_armed = (uint32_t)spsr_illegal(cp->val);
        refresh_fast_limit(c);
        if (c->il_armed && !c->limit) {
            /* No block hook (an uncounted run): stop so that the hypervisor attaches one. */
            uc_reg_read(uc, REG_PC, &c->sys_pc);
            uc_emu_stop(uc);
        }
        return 0;
    }
    if (is_read && op == SYS_OP(3, 0, 0, 4, 0) && c->pfr0_gic) { /* ID_AA64PFR0_EL1 */
        struct uc_cp_reg id = { .crn = 0, .crm = 4, .op0 = 3, .op1 = 0, .op2 = 0 };
        uc_reg_read(uc, REG_CP_REG, &id);
        id.val = (id.val & ~((uint64_t)0xf << 24)) | ((uint64_t)c->pfr0_gic << 24);
        if (xreg_index(reg) != 31)
            uc_reg_write(uc, reg, &id.val);
        return 1;
    }
    if (cp->op0 != 3 || cp->op1 != 3 || cp->crn != 14)
        return 0;
    /* CNTPCT_EL0 and CNTVCT_EL0 (CRm 0, op2 1 and 2) read the same virtual count. */
    if (is_read && cp->crm == 0 && (cp->op2 == 1 || cp->op2 == 2) && c->clock_tick_ns) {
        uint64_t now = c->clock_base + c->executed;
        if (now >= c->clock_base && now < c->clock_due) {
            uint64_t count = now / c->clock_tick_ns;
            if (xreg_index(reg) != 31)
                uc_reg_write(uc, reg, &count);
            return 1;
        }
    }
    c->sys_op = op;
    c->sys_rt = xreg_index(reg);
    c->sys_read = (uint32_t)is_read;
    c->sys_value = is_read ? 0 : cp->val;
    c->sys_handled = 0;
    c->sys_handler();
    if (!c->sys_handled)
        return 0;
    if (is_read && c->sys_rt != 31)
        uc_reg_write(uc, reg, &c->sys_value);
    return 1; /* emulated: the engine skips the access */
}

static uint32_t xenvm_mrs(uc_engine *uc, int reg, const struct uc_cp_reg *cp, void *user_data)
{
    return xenvm_sys(uc, reg, cp, user_data, 1);
}

static uint32_t xenvm_msr(uc_engine *uc, int reg, const struct uc_cp_reg *cp, void *user_data)
{
    return xenvm_sys(uc, reg, cp, user_data, 0);
}

int xenvm_sys_install(uc_engine *uc, struct xenvm_counter *c)
{
    size_t hh;
    int err = uc_hook_add(uc, &hh, UC_HOOK_INSN, (void *)xenvm_mrs, c, 1, 0, UC_ARM64_INS_MRS);
    if (err)
        return err;
    return uc_hook_add(uc, &hh, UC_HOOK_INSN, (void *)xenvm_msr, c, 1, 0, UC_ARM64_INS_MSR);
}

/*
 * SYS instructions (op0 = 1): TLBI (CRn 8) and IC (CRn 7, CRm 1 = IALLUIS, CRm 5 = IALLU/IVAU)
 * are counted for the machine, then performed by the engine as usual (return 0). Installed
 * only for vCPUs of a domain with several: a single vCPU needs nothing of this.
 */
#define UC_ARM64_INS_SYS 3

static uint32_t xenvm_sysinsn(uc_engine *uc, int reg, const struct uc_cp_reg *cp, void *user_data)
{
    struct xenvm_counter *c = user_data;
    (void)uc;
    (void)reg;
    if (!c->maint_watch || cp->op0 != 1)
        return 0;
    if (cp->crn == 8)
        c->maint_tlbi++;
    else if (cp->crn == 7 && (cp->crm == 1 || cp->crm == 5))
        c->maint_ic++;
    return 0;
}

int xenvm_maint_install(uc_engine *uc, struct xenvm_counter *c)
{
    size_t hh;
    c->maint_watch = 1;
    return uc_hook_add(uc, &hh, UC_HOOK_INSN, (void *)xenvm_sysinsn, c, 1, 0, UC_ARM64_INS_SYS);
}

/*
 * MMIO windows through one native trampoline. The engine calls these for every access to a
 * window; the JavaScript handler (void(void), like the exception handler) finds the access in
 * the block and leaves a read's result in `value`. A native call made from inside a JavaScript
 * callback costs about three times one made outside it, and the vGIC's answer to the guest's
 * acknowledge is exactly such a call (lowering the IRQ line in HCR_EL2): the handler leaves
 * that system-register write in `deferred` and it is made here, once the handler has returned,
 * before the guest runs on.
 */

struct xenvm_cp_write {
    uint32_t pending;
    uint32_t pad;
    uint32_t crn, crm, op0, op1, op2, pad2; /* Unicorn 2.0's uc_arm64_cp_reg */
    uint64_t val;
};

struct xenvm_mmio {
    uint64_t offset;
    uint64_t value;  /* a write's value in, a read's result out */
    uint32_t size;
    uint32_t write;
    void (*handler)(void);
    struct xenvm_cp_write *deferred; /* shared by the engine's windows */
};

static void xenvm_apply_deferred(uc_engine *uc, struct xenvm_cp_write *d)
{
    if (d->pending) {
        d->pending = 0;
        uc_reg_write(uc, REG_CP_REG, &d->crn);
    }
}

static uint64_t xenvm_mmio_read(uc_engine *uc, uint64_t offset, unsigned size, void *user_data)
{
    struct xenvm_mmio *m = user_data;

    m->offset = offset;
    m->size = size;
    m->write = 0;
    m->value = 0;
    m->handler();
    xenvm_apply_deferred(uc, m->deferred);
    return m->value;
}

static void xenvm_mmio_write(uc_engine *uc, uint64_t offset, unsigned size, uint64_t value, void *user_data)
{
    struct xenvm_mmio *m = user_data;

    m->offset = offset;
    m->size = size;
    m->write = 1;
    m->value = value;
    m->handler();
    xenvm_apply_deferred(uc, m->deferred);
}

int uc_mmio_map(uc_engine *uc, uint64_t address, size_t size, void *read_cb, void *user_data_read, void *write_cb,
                void *user_data_write);

int xenvm_mmio_map(uc_engine *uc, uint64_t address, size_t size, struct xenvm_mmio *m)
{
    return uc_mmio_map(uc, address, size, (void *)xenvm_mmio_read, m, (void *)xenvm_mmio_write, m);
}

/*
 * The vpl011's transmit path (src/machine/pl011.ts). A Linux boot prints some 16,000
 * characters through it, each a UARTFR poll and a UARTDR write: two JavaScript calls per
 * character. While the hypervisor allows it (`fast`: no trace, and a character cannot raise
 * the UART's interrupt), FR reads are answered here from `fr` and DR writes go to `buf`, which
 * the hypervisor drains after the run and before it handles anything else of the domain.
 * Every other access, or a full buffer, takes the window's usual path. The state is the
 * domain's, shared by its vCPUs' engines; the window around it is per engine.
 */
#define UART_DR 0x000
#define UART_FR 0x018
#define UART_FR_TXFE (1u << 7)
#define UART_BUF 4096

struct xenvm_uart {
    uint32_t fr;       /* @0 UARTFR as the guest reads it */
    uint32_t fast;     /* @4 nonzero: FR reads and DR writes are handled here */
    uint32_t len;      /* @8 characters in buf the hypervisor has not taken yet */
    uint32_t pad;      /* @12 */
    uint8_t buf[UART_BUF]; /* @16 */
};

struct xenvm_uart_window {
    struct xenvm_mmio mmio;   /* @0 this engine's window, for every other access */
    struct xenvm_uart *uart;  /* @40 */
};

static uint64_t xenvm_uart_read(uc_engine *uc, uint64_t offset, unsigned size, void *user_data)
{
    struct xenvm_uart_window *w = user_data;
    struct xenvm_uart *u = w->uart;

    if (u->fast && offset == UART_FR && size <= 4)
        return size == 4 ? u->fr : u->fr & ((1u << (8 * size)) - 1);
    return xenvm_mmio_read(uc, offset, size, &w->mmio);
}

static void xenvm_uart_write(uc_engine *uc, uint64_t offset, unsigned size, uint64_t value, void *user_data)
{
    struct xenvm_uart_window *w = user_data;
    struct xenvm_uart *u = w->uart;

    if (u->fast && offset == UART_DR && size <= 4 && u->len < UART_BUF) {
        u->buf[u->len++] = (uint8_t)value;
        u->fr &= ~UART_FR_TXFE; /* as the first character does under Xen */
        return;
    }
    xenvm_mmio_write(uc, offset, size, value, &w->mmio);
}

int xenvm_uart_map(uc_engine *uc, uint64_t address, size_t size, struct xenvm_uart_window *w)
{
    return uc_mmio_map(uc, address, size, (void *)xenvm_uart_read, w, (void *)xenvm_uart_write, w);
}

/*
 * One vCPU run in one native call: the system-register write left for it (a stopped vCPU's
 * IRQ line), uc_emu_start, and the PC it stopped at (every WFI exit needs it, and the next run
 * starts there).
 */
int uc_emu_start(uc_engine *uc, uint64_t begin, uint64_t until, uint64_t timeout, size_t count);

int xenvm_run(uc_engine *uc, struct xenvm_cp_write *deferred, uint64_t begin, uint64_t timeout, uint64_t *pc_after)
{
    int err;

    xenvm_apply_deferred(uc, deferred);
    err = uc_emu_start(uc, begin, 0, timeout, 0);
    uc_reg_read(uc, REG_PC, pc_after);
    return err;
}
