// Compares two transcripts (`dN: text` lines) domain by domain. Domains run side by side,
// so the order in which their lines interleave is scheduling, not behaviour: only each
// domain's own sequence of lines is compared.

export interface DomainDiff {
  domid: number;
  equal: boolean;
  /** Unified-diff-like body: ' ' same, '-' only in the expected, '+' only in the actual. */
  hunks: string[];
}

export interface TranscriptDiff {
  equal: boolean;
  domains: DomainDiff[];
}

const LINE_RE = /^d(\d+): ?(.*)$/s;

/** Groups a transcript by domain; lines that are not `dN: ...` go to domain -1. */
export function splitByDomain(lines: string[]): Map<number, string[]> {
  const by = new Map<number, string[]>();
  for (const l of lines) {
    const m = LINE_RE.exec(l);
    const domid = m ? Number(m[1]) : -1;
    const text = m ? m[2] : l;
    if (!by.has(domid)) by.set(domid, []);
    by.get(domid)!.push(text);
  }
  return by;
}

type Op = { op: ' ' | '-' | '+'; text: string };

/** Line diff by longest common subsequence (transcripts are small: hundreds of lines). */
export function diffLines(a: string[], b: string[]): Op[] {
  const n = a.length;
  const m = b.length;
  const lcs: number[][] = Array.from({ length: n + 1 }, () => new Array<number>(m + 1).fill(0));
  for (let i = n - 1; i >= 0; i--) {
    for (let j = m - 1; j >= 0; j--) {
      lcs[i][j] = a[i] === b[j] ? lcs[i + 1][j + 1] + 1 : Math.max(lcs[i + 1][j], lcs[i][j + 1]);
    }
  }
  const ops: Op[] = [];
  let i = 0;
  let j = 0;
  while (i < n && j < m) {
    if (a[i] === b[j]) {
      ops.push({ op: ' ', text: a[i] });
      i++;
      j++;
    } else if (lcs[i + 1][j] >= lcs[i][j + 1]) {
      ops.push({ op: '-', text: a[i++] });
    } else {
      ops.push({ op: '+', text: b[j++] });
    }
  }
  while (i < n) ops.push({ op: '-', text: a[i++] });
  while (j < m) ops.push({ op: '+', text: b[j++] });
  return ops;
}

/** Keeps `context` unchanged lines around each change; elided runs become "@@ ... @@". */
function hunksOf(ops: Op[], context: number): string[] {
  const keep = ops.map(() => false);
  ops.forEach((o, k) => {
    if (o.op === ' ') return;
    for (let x = Math.max(0, k - context); x <= Math.min(ops.length - 1, k + context); x++) keep[x] = true;
  });
  const out: string[] = [];
  let skipped = 0;
  ops.forEach((o, k) => {
    if (!keep[k]) {
      skipped++;
      return;
    }
    if (skipped > 0) out.push(`@@ ${skipped} unchanged line${skipped === 1 ? '' : 's'} @@`);
    skipped = 0;
    out.push(`${o.op}${o.text}`);
  });
  if (skipped > 0 && out.length > 0) out.push(`@@ ${skipped} unchanged line${skipped === 1 ? '' : 's'} @@`);
  return out;
}

export function diffTranscripts(expected: string[], actual: string[], context = 3): TranscriptDiff {
  const e = splitByDomain(expected);
  const a = splitByDomain(actual);
  const ids = [...new Set([...e.keys(), ...a.keys()])].sort((x, y) => x - y);
  const domains = ids.map((domid) => {
    const ops = diffLines(e.get(domid) ?? [], a.get(domid) ?? []);
    const equal = ops.every((o) => o.op === ' ');
    return { domid, equal, hunks: equal ? [] : hunksOf(ops, context) };
  });
  return { equal: domains.every((d) => d.equal), domains };
}

/** Human-readable report; `expectedName`/`actualName` label the '-' and '+' sides. */
export function formatDiff(d: TranscriptDiff, expectedName: string, actualName: string): string {
  if (d.equal) return 'transcripts are equal';
  const out: string[] = [`--- ${expectedName}`, `+++ ${actualName}`];
  for (const dom of d.domains) {
    const name = dom.domid < 0 ? '(not a dN: line)' : `d${dom.domid}`;
    if (dom.equal) {
      out.push(`=== ${name}: equal`);
      continue;
    }
    out.push(`=== ${name}: differs`, ...dom.hunks);
  }
  return out.join('\n');
}
