import { describe, expect, it } from 'vitest';
import {
  DumpParser,
  LineSplitter,
  TranscriptAssembler,
  VPL011_CHUNK,
  classifyLine,
  isShutDown,
  parseSerialInputSwitch,
} from '../../src/oracle/xen-console.ts';

// Verbatim lines from Xen 4.17.7 (Debian) under QEMU 7.2, dom0less, loglvl=all guest_loglvl=all.
const SAMPLE = [
  '(XEN) Freed 348kB init memory.\r',
  '(XEN) DOM1: hello from probe\r',
  '(d1) via console_io\r',
  '(XEN) DOM2: tab\there and cr\r\r',
  '(XEN) DOM1: Test result: PASS\r',
];

describe('classifyLine', () => {
  it('recognises vpl011, console_io, Xen and raw lines', () => {
    expect(SAMPLE.map(classifyLine)).toEqual([
      { kind: 'xen', text: 'Freed 348kB init memory.' },
      { kind: 'vpl011', domid: 1, text: 'hello from probe' },
      { kind: 'console_io', domid: 1, text: 'via console_io' },
      { kind: 'vpl011', domid: 2, text: 'tab\there and cr' },
      { kind: 'vpl011', domid: 1, text: 'Test result: PASS' },
    ]);
    expect(classifyLine('via dom0 console_io\r')).toEqual({ kind: 'raw', text: 'via dom0 console_io' });
  });

  it('keeps an empty vpl011 line', () => {
    expect(classifyLine('(XEN) DOM3: \r')).toEqual({ kind: 'vpl011', domid: 3, text: '' });
  });
});

describe('LineSplitter', () => {
  it('joins lines split across chunks and holds the tail', () => {
    const s = new LineSplitter();
    expect(s.push('(XEN) DO')).toEqual([]);
    expect(s.push('M1: a\r\n(XEN) DOM1: b\r\n(XEN) 3... ')).toEqual(['(XEN) DOM1: a\r', '(XEN) DOM1: b\r']);
    expect(s.pending()).toBe('(XEN) 3... ');
  });
});

describe('TranscriptAssembler', () => {
  const vp = (domid: number, text: string) => ({ kind: 'vpl011' as const, domid, text });

  it('rejoins a long line Xen split into 126-character chunks, per domain', () => {
    const a = new TranscriptAssembler({ rejoinLongLines: true, dom0: false });
    const long = 'x'.repeat(VPL011_CHUNK);
    expect(a.accept(vp(1, long))).toEqual([]);
    expect(a.accept(vp(2, 'other domain'))).toEqual([{ domid: 2, text: 'other domain' }]);
    expect(a.accept(vp(1, 'tail'))).toEqual([{ domid: 1, text: long + 'tail' }]);
  });

  it('turns a full chunk plus an empty chunk back into a 126-character line', () => {
    const a = new TranscriptAssembler({ rejoinLongLines: true, dom0: false });
    const line = 'y'.repeat(VPL011_CHUNK);
    a.accept(vp(1, line));
    expect(a.accept(vp(1, ''))).toEqual([{ domid: 1, text: line }]);
  });

  it('can leave chunks as Xen printed them', () => {
    const a = new TranscriptAssembler({ rejoinLongLines: false, dom0: false });
    expect(a.accept(vp(1, 'z'.repeat(VPL011_CHUNK)))).toHaveLength(1);
  });

  it('maps raw lines to d0 only when there is a dom0', () => {
    const raw = { kind: 'raw' as const, text: 'hi' };
    expect(new TranscriptAssembler({ rejoinLongLines: true, dom0: false }).accept(raw)).toEqual([]);
    expect(new TranscriptAssembler({ rejoinLongLines: true, dom0: true }).accept(raw)).toEqual([{ domid: 0, text: 'hi' }]);
  });
});

// Verbatim 'q' dump of a domain after SCHEDOP_shutdown (abridged to the lines parsed, plus neighbours).
const DUMP_SHUT = [
  "'q' pressed -> dumping domain info (now = 5630419648)",
  'General information for domain 1:',
  '    refcnt=3 dying=0 pause_count=0',
  'VCPU information and callbacks for domain 1:',
  '  UNIT0 affinities: hard={0} soft={0}',
  '    VCPU0: CPU0 [has=F] poll=0 upcall_pend=00 upcall_mask=01 ',
  '    pause_count=1 pause_flags=0',
  'VCPU information and callbacks for domain 2:',
  '    VCPU0: CPU0 [has=F] poll=0 upcall_pend=00 upcall_mask=01 ',
  '    pause_count=0 pause_flags=1',
  'No periodic timer',
  'Notifying guest 1:0 (virq 1, port 0)',
  'Notifying guest 2:0 (virq 1, port 0)',
];

describe('DumpParser', () => {
  it('reports vCPU pause counts when the dump closes', () => {
    const p = new DumpParser();
    let snap;
    for (const l of DUMP_SHUT) snap = p.accept(l) ?? snap;
    expect(snap).toEqual([
      { domid: 1, vcpuPauseCounts: [1] },
      { domid: 2, vcpuPauseCounts: [0] },
    ]);
    expect(snap!.map(isShutDown)).toEqual([true, false]);
  });

  it('ignores pause lines outside a dump', () => {
    const p = new DumpParser();
    expect(p.accept('    pause_count=1 pause_flags=0')).toBeUndefined();
    expect(p.accept('Notifying guest 1:0 (virq 1, port 0)')).toBeUndefined();
  });
});

describe('parseSerialInputSwitch', () => {
  it('reads where serial input goes, even after an unterminated countdown', () => {
    expect(parseSerialInputSwitch("3... 2... 1... *** Serial input to DOM0 (type 'CTRL-a' three times to switch input)")).toBe(0);
    expect(parseSerialInputSwitch("*** Serial input to Xen (type 'CTRL-a' three times to switch input)")).toBe('xen');
    expect(parseSerialInputSwitch('Freed 348kB init memory.')).toBeUndefined();
  });
});
