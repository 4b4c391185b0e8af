// The .debug_line / .debug_info reader behind the reports' file:line (src/machine/loader/dwarf-line.ts,
// dwarf-inline.ts), against the firmware's own ELFs (built with -g, DWARF 5).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readLineTable } from '../../src/machine/loader/dwarf-line.ts';
import { parseElf64 } from '../../src/machine/loader/elf.ts';
import { REPO_ROOT } from '../../src/machine/run.ts';
import { image } from '../helpers/firmware.ts';

const elfBytes = (app: string) => readFileSync(image('xenvm-gicv2', app, 'elf'));
const symbol = (bytes: Uint8Array, name: string) => {
  const e = parseElf64(bytes);
  if (!e.ok) throw new Error(e.error);
  const s = e.value.symbols.find((x) => x.name === name);
  if (!s) throw new Error(`no symbol ${name}`);
  return s.addr;
};
const sourceLine = (file: string, line: number) => readFileSync(join(REPO_ROOT, 'firmware', file), 'utf8').split('\n')[line - 1];

describe('DWARF line table', () => {
  it('a function\'s first instruction is at its definition, in its own file', () => {
    const bytes = elfBytes('check-rules-fifo');
    const t = readLineTable(bytes);
    expect(t.ok).toBe(true);
    if (!t.ok) return;
    const at = t.value.lookup(symbol(bytes, 'main'));
    expect(at).toMatch(/^apps\/check-rules-fifo\/main\.c:\d+$/);
    const n = Number(at!.split(':')[1]);
    // The opening line (GCC: the line of "{" or of the declarator).
    expect([sourceLine('apps/check-rules-fifo/main.c', n), sourceLine('apps/check-rules-fifo/main.c', n - 1)].join('\n')).toMatch(/int main\(void\)/);
    // Assembler sources have lines too.
    expect(t.value.lookup(symbol(bytes, 'HYPERVISOR_event_channel_op'))).toMatch(/^lib\/xen\/hypercall\.S:\d+$/);
  });

  it('an address outside every sequence has no line; a file without DWARF is an error', () => {
    const t = readLineTable(elfBytes('hello'));
    // Past the code (functions the linker dropped keep sequences at address 0, so not there).
    expect(t.ok && t.value.lookup(0x4800_0000)).toBe(undefined);
    const img = readLineTable(readFileSync(image('xenvm-gicv2', 'hello')));
    expect(img.ok).toBe(false);
  });
});
