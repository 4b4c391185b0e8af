/*
 * xenvm-emu's instruction counter: a per-instruction code hook for Unicorn 2.x.
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

#define UC_HOOK_CODE 4
#define UC_HOOK_BLOCK 8

struct xenvm_counter {
    uint64_t executed; /* instructions retired since the counter was last cleared */
    uint64_t limit;    /* stop before the instruction that would exceed this */
};

static void xenvm_count_insn(uc_engine *uc, uint64_t address, uint32_t size, void *user_data)
{
    struct xenvm_counter *c = user_data;
    (void)address;
    (void)size;
    /* The hook runs before the instruction: stopping here means it does not retire. */
    if (c->executed >= c->limit) {
        uc_emu_stop(uc);
        return;
    }
    c->executed++;
}

/*
 * Per translation block: the block's instructions are counted when it starts, so a run may
 * overshoot its budget by less than one block (deterministically). Blocks end at every
 * exception-generating instruction (HVC, SVC, WFI), so counts at hypercalls and WFI are exact.
 * Much cheaper than a per-instruction hook; the first block of a run always executes, so a run
 * always makes progress.
 */
static void xenvm_count_block(uc_engine *uc, uint64_t address, uint32_t size, void *user_data)
{
    struct xenvm_counter *c = user_data;
    (void)address;
    if (c->executed >= c->limit) {
        uc_emu_stop(uc);
        return;
    }
    c->executed += size / 4;
}

/* granularity: 0 = per block (fast), 1 = per instruction (exact budgets and fault PCs). */
int xenvm_counter_install(uc_engine *uc, struct xenvm_counter *c, int per_instruction)
{
    size_t hh;
    if (per_instruction)
        return uc_hook_add(uc, &hh, UC_HOOK_CODE, (void *)xenvm_count_insn, c, 1, 0);
    return uc_hook_add(uc, &hh, UC_HOOK_BLOCK, (void *)xenvm_count_block, c, 1, 0);
}
