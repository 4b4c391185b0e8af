/**
 * A devicetree as text, one node at a time, for comparing two trees and for reading them:
 * each node is its path plus `name = value` lines in the blob's property order. Values are
 * shown as dtc shows them (DT spec v0.4 §6.3 notation): a list of printable NUL-terminated
 * strings as "a", "b"; a multiple of 4 bytes as <0x...> cells; anything else as [bytes].
 */
import type { FdtNode } from './writer.ts';

export interface NodeText {
  /** "/", "/cpus/cpu@0", ... */
  path: string;
  /** `name = value`, or just `name` for an empty property. */
  props: string[];
  /** Child names in order. */
  children: string[];
}

export function formatValue(v: Uint8Array): string {
  if (v.length === 0) return '';
  const strings = asStrings(v);
  if (strings) return strings.map((s) => JSON.stringify(s)).join(', ');
  if (v.length % 4 === 0) {
    const dv = new DataView(v.buffer, v.byteOffset, v.byteLength);
    const cells: string[] = [];
    for (let i = 0; i < v.length; i += 4) cells.push('0x' + dv.getUint32(i).toString(16));
    return `<${cells.join(' ')}>`;
  }
  return `[${[...v].map((b) => b.toString(16).padStart(2, '0')).join(' ')}]`;
}

/** The strings of a NUL-terminated printable string list, or undefined if it is not one. */
function asStrings(v: Uint8Array): string[] | undefined {
  if (v[v.length - 1] !== 0) return undefined;
  const out: string[] = [];
  let cur = '';
  for (let i = 0; i < v.length; i++) {
    const b = v[i];
    if (b === 0) {
      if (cur === '') return undefined; // empty strings: more likely binary
      out.push(cur);
      cur = '';
    } else if (b >= 0x20 && b < 0x7f) {
      cur += String.fromCharCode(b);
    } else {
      return undefined;
    }
  }
  return out;
}

/** Every node in document order (depth first), without recursion. */
export function formatTree(root: FdtNode): NodeText[] {
  const out: NodeText[] = [];
  const stack: [FdtNode, string][] = [[root, '/']];
  while (stack.length > 0) {
    const [n, path] = stack.pop()!;
    out.push({
      path,
      props: n.props.map((p) => (p.value.length === 0 ? p.name : `${p.name} = ${formatValue(p.value)}`)),
      children: n.children.map((c) => c.name),
    });
    for (let i = n.children.length - 1; i >= 0; i--) {
      const c = n.children[i];
      stack.push([c, path === '/' ? `/${c.name}` : `${path}/${c.name}`]);
    }
  }
  return out;
}

/**
 * The first place where two trees differ, walking both in document order, as a sentence
 * naming the node and property; undefined when they are the same (names, order, values).
 */
export function firstDifference(ours: FdtNode, theirs: FdtNode, labels = ['ours', 'real']): string | undefined {
  const a = formatTree(ours);
  const b = formatTree(theirs);
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    const x = a[i];
    const y = b[i];
    if (!x || !y) return `node list ends early in ${!x ? labels[0] : labels[1]} (next node there: ${(x ?? y).path})`;
    if (x.path !== y.path) return `node #${i}: ${labels[0]} has ${x.path}, ${labels[1]} has ${y.path}`;
    for (let j = 0; j < Math.max(x.props.length, y.props.length); j++) {
      if (x.props[j] !== y.props[j]) {
        return `${x.path}: property #${j}: ${labels[0]} has ${x.props[j] ?? '(none)'}, ${labels[1]} has ${y.props[j] ?? '(none)'}`;
      }
    }
    if (x.children.join('\n') !== y.children.join('\n')) {
      return `${x.path}: children differ: ${labels[0]} [${x.children.join(', ')}], ${labels[1]} [${y.children.join(', ')}]`;
    }
  }
  return undefined;
}
