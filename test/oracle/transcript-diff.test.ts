import { describe, expect, it } from 'vitest';
import { diffLines, diffTranscripts, formatDiff, splitByDomain } from '../../src/oracle/transcript-diff.ts';

describe('splitByDomain', () => {
  it('groups lines per domain and keeps stray lines apart', () => {
    const by = splitByDomain(['d1: a', 'd2: b', 'd1: c', 'noise']);
    expect([...by]).toEqual([
      [1, ['a', 'c']],
      [2, ['b']],
      [-1, ['noise']],
    ]);
  });
});

describe('diffTranscripts', () => {
  it('ignores how domains interleave', () => {
    const d = diffTranscripts(['d1: a', 'd2: x', 'd1: b'], ['d2: x', 'd1: a', 'd1: b']);
    expect(d.equal).toBe(true);
    expect(formatDiff(d, 'xen', 'emu')).toBe('transcripts are equal');
  });

  it('reports a changed line in its own domain only', () => {
    const d = diffTranscripts(['d1: a', 'd1: b', 'd2: x'], ['d1: a', 'd1: B', 'd2: x']);
    expect(d.equal).toBe(false);
    expect(d.domains).toEqual([
      { domid: 1, equal: false, hunks: [' a', '-b', '+B'] },
      { domid: 2, equal: true, hunks: [] },
    ]);
    expect(formatDiff(d, 'xen', 'emu').split('\n')).toEqual([
      '--- xen',
      '+++ emu',
      '=== d1: differs',
      ' a',
      '-b',
      '+B',
      '=== d2: equal',
    ]);
  });

  it('reports a domain missing on one side', () => {
    const d = diffTranscripts(['d1: a', 'd2: x'], ['d1: a']);
    expect(d.domains[1]).toEqual({ domid: 2, equal: false, hunks: ['-x'] });
  });

  it('elides long unchanged runs', () => {
    const same = Array.from({ length: 10 }, (_, i) => `d1: ${i}`);
    const d = diffTranscripts([...same, 'd1: end'], [...same, 'd1: END']);
    expect(d.domains[0].hunks).toEqual(['@@ 7 unchanged lines @@', ' 7', ' 8', ' 9', '-end', '+END']);
  });
});

describe('diffLines', () => {
  it('is an edit script from the first sequence to the second', () => {
    const a = ['p', 'q', 'r', 's'];
    const b = ['q', 'x', 's', 't'];
    const ops = diffLines(a, b);
    expect(ops.filter((o) => o.op !== '+').map((o) => o.text)).toEqual(a);
    expect(ops.filter((o) => o.op !== '-').map((o) => o.text)).toEqual(b);
    expect(ops.filter((o) => o.op === ' ').map((o) => o.text)).toEqual(['q', 's']);
  });
});
