/**
 * Lookups on a parsed devicetree: paths, compatibles, typed property values, `reg` and
 * `interrupts` decoding. Property encodings are those of the Devicetree Specification
 * v0.4 §2.2.4 (big-endian u32 cells, NUL-terminated strings, string lists).
 *
 * Every getter returns a Result whose error names the node path and the property, so a
 * bad board file produces a message the user can act on.
 */
import { type Result, ok, err, hex } from '../result.ts';
import type { Fdt, FdtNode } from './fdt.ts';

export function nodePath(node: FdtNode): string {
  const parts: string[] = [];
  for (let n: FdtNode | undefined = node; n && n.parent; n = n.parent) parts.push(n.fullName);
  return '/' + parts.reverse().join('/');
}

/** Every node of the tree in document order (depth first), without recursion. */
export function allNodes(root: FdtNode): FdtNode[] {
  const out: FdtNode[] = [];
  const stack: FdtNode[] = [root];
  while (stack.length > 0) {
    const n = stack.pop()!;
    out.push(n);
    for (let i = n.children.length - 1; i >= 0; i--) stack.push(n.children[i]);
  }
  return out;
}

/**
 * Finds a node by absolute path ("/soc/uart@9000000") or by alias ("serial0",
 * "serial0/child"). As in libfdt, a path component without '@' also matches a node whose
 * name has a unit address ("/memory" finds "memory@40000000").
 */
export function findByPath(fdt: Fdt, path: string): FdtNode | undefined {
  let node: FdtNode | undefined = fdt.root;
  let rest = path;
  if (!path.startsWith('/')) {
    const slash = path.indexOf('/');
    const alias = slash < 0 ? path : path.slice(0, slash);
    const aliases = fdt.root.children.find((c) => c.fullName === 'aliases');
    const target = aliases?.props.get(alias);
    if (target === undefined) return undefined;
    const t = decodeString(target);
    if (t === undefined || !t.startsWith('/')) return undefined;
    node = findByPath(fdt, t);
    rest = slash < 0 ? '' : path.slice(slash);
  }
  for (const part of rest.split('/')) {
    if (part === '' || node === undefined) continue;
    const n: FdtNode = node;
    node =
      n.children.find((c) => c.fullName === part) ??
      (part.includes('@') ? undefined : n.children.find((c) => c.name === part));
  }
  return node;
}

/** Nodes whose `compatible` list contains `compat`, in document order. */
export function findCompatible(fdt: Fdt, compat: string): FdtNode[] {
  return allNodes(fdt.root).filter((n) => isCompatible(n, compat));
}

export function isCompatible(node: FdtNode, compat: string): boolean {
  const v = node.props.get('compatible');
  if (v === undefined) return false;
  const list = decodeStringList(v);
  return list !== undefined && list.includes(compat);
}

/** A node is usable unless its `status` says otherwise (DT spec v0.4 §2.3.4). */
export function isEnabled(node: FdtNode): boolean {
  const v = node.props.get('status');
  if (v === undefined) return true;
  const s = decodeString(v);
  return s === 'okay' || s === 'ok';
}

function missing(node: FdtNode, name: string): Result<never> {
  return err(`${nodePath(node)}: property '${name}' is missing`);
}

export function getU32(node: FdtNode, name: string): Result<number> {
  const v = node.props.get(name);
  if (v === undefined) return missing(node, name);
  if (v.length !== 4) return err(`${nodePath(node)}: property '${name}' is ${v.length} bytes, expected one u32 cell (4 bytes)`);
  return ok(cell(v, 0));
}

export function getU32Array(node: FdtNode, name: string): Result<number[]> {
  const v = node.props.get(name);
  if (v === undefined) return missing(node, name);
  if (v.length % 4 !== 0) {
    return err(`${nodePath(node)}: property '${name}' is ${v.length} bytes, not a whole number of u32 cells`);
  }
  return ok(cells(v));
}

export function getString(node: FdtNode, name: string): Result<string> {
  const v = node.props.get(name);
  if (v === undefined) return missing(node, name);
  const s = decodeString(v);
  return s === undefined ? err(`${nodePath(node)}: property '${name}' is not a NUL-terminated string`) : ok(s);
}

export function getStringList(node: FdtNode, name: string): Result<string[]> {
  const v = node.props.get(name);
  if (v === undefined) return missing(node, name);
  const l = decodeStringList(v);
  return l === undefined ? err(`${nodePath(node)}: property '${name}' is not a list of NUL-terminated strings`) : ok(l);
}

/** The node a phandle names, e.g. for `interrupt-parent = <&gic>`. */
export function resolvePhandle(fdt: Fdt, phandle: number): FdtNode | undefined {
  return fdt.phandles.get(phandle);
}

function cell(v: Uint8Array, i: number): number {
  return ((v[i] << 24) | (v[i + 1] << 16) | (v[i + 2] << 8) | v[i + 3]) >>> 0;
}

function cells(v: Uint8Array): number[] {
  const out: number[] = [];
  for (let i = 0; i + 4 <= v.length; i += 4) out.push(cell(v, i));
  return out;
}

function decodeString(v: Uint8Array): string | undefined {
  if (v.length === 0 || v[v.length - 1] !== 0) return undefined;
  const nul = v.indexOf(0);
  if (nul !== v.length - 1) return undefined;
  return new TextDecoder('latin1').decode(v.subarray(0, nul));
}

function decodeStringList(v: Uint8Array): string[] | undefined {
  if (v.length === 0 || v[v.length - 1] !== 0) return undefined;
  return new TextDecoder('latin1').decode(v.subarray(0, v.length - 1)).split('\0');
}

/** A big-endian group of cells as one unsigned number (a 2-cell address is 64 bits). */
function cellsToBigint(cs: number[]): bigint {
  let x = 0n;
  for (const c of cs) x = (x << 32n) | BigInt(c);
  return x;
}

/**
 * `#address-cells` / `#size-cells` of a bus node; absent means 2 and 1
 * (DT spec v0.4 §2.3.5).
 */
export function cellCounts(bus: FdtNode): Result<{ addressCells: number; sizeCells: number }> {
  const a = bus.props.has('#address-cells') ? getU32(bus, '#address-cells') : ok(2);
  if (!a.ok) return a;
  const s = bus.props.has('#size-cells') ? getU32(bus, '#size-cells') : ok(1);
  if (!s.ok) return s;
  // Nothing real uses more than 4 cells (PCI uses 3); a huge count is a corrupt blob.
  if (a.value > 4 || s.value > 4) {
    return err(`${nodePath(bus)}: #address-cells ${a.value} / #size-cells ${s.value} out of range (at most 4)`);
  }
  return ok({ addressCells: a.value, sizeCells: s.value });
}

export interface RegEntry {
  address: bigint;
  size: bigint;
}

/** `reg` decoded with the parent's cell counts (addresses are bus addresses of the parent). */
export function regOf(node: FdtNode): Result<RegEntry[]> {
  if (node.parent === undefined) return err(`/: the root node has no parent bus to give 'reg' a meaning`);
  const cc = cellCounts(node.parent);
  if (!cc.ok) return cc;
  const { addressCells, sizeCells } = cc.value;
  const raw = getU32Array(node, 'reg');
  if (!raw.ok) return raw;
  const per = addressCells + sizeCells;
  if (per === 0 || raw.value.length % per !== 0) {
    return err(
      `${nodePath(node)}: 'reg' has ${raw.value.length} cells, not a multiple of #address-cells ${addressCells} + #size-cells ${sizeCells}`,
    );
  }
  const out: RegEntry[] = [];
  for (let i = 0; i < raw.value.length; i += per) {
    out.push({
      address: cellsToBigint(raw.value.slice(i, i + addressCells)),
      size: cellsToBigint(raw.value.slice(i + addressCells, i + per)),
    });
  }
  return ok(out);
}

/** `reg` as JavaScript numbers, for addresses that fit (all guest-physical ones here do). */
export function regOfNumbers(node: FdtNode): Result<{ address: number; size: number }[]> {
  const r = regOf(node);
  if (!r.ok) return r;
  const out: { address: number; size: number }[] = [];
  for (const { address, size } of r.value) {
    if (address > BigInt(Number.MAX_SAFE_INTEGER) || size > BigInt(Number.MAX_SAFE_INTEGER)) {
      return err(`${nodePath(node)}: 'reg' entry ${hex(address)}+${hex(size)} does not fit in a 53-bit number`);
    }
    out.push({ address: Number(address), size: Number(size) });
  }
  return ok(out);
}

/**
 * The interrupt controller that a node's `interrupts` refer to: the node named by
 * `interrupt-parent`, or else the tree parent; repeated until a node with
 * `#interrupt-cells` is reached (DT spec v0.4 §2.4.1).
 */
export function interruptParentOf(fdt: Fdt, node: FdtNode): Result<FdtNode> {
  const seen = new Set<FdtNode>();
  let n = node;
  for (;;) {
    seen.add(n);
    let p: FdtNode | undefined;
    if (n.props.has('interrupt-parent')) {
      const ph = getU32(n, 'interrupt-parent');
      if (!ph.ok) return ph;
      p = fdt.phandles.get(ph.value);
      if (p === undefined) {
        return err(`${nodePath(n)}: interrupt-parent phandle ${hex(ph.value)} does not name any node`);
      }
    } else {
      p = n.parent;
      if (p === undefined) return err(`${nodePath(node)}: no interrupt parent (no node with #interrupt-cells above it)`);
    }
    if (p.props.has('#interrupt-cells')) return ok(p);
    if (seen.has(p)) return err(`${nodePath(node)}: interrupt-parent chain loops at ${nodePath(p)}`);
    n = p;
  }
}

export interface InterruptSpec {
  controller: FdtNode;
  /** The specifier cells, as many as the controller's #interrupt-cells. */
  cells: number[];
}

/** `interrupts-extended` if present, else `interrupts` split by the parent's #interrupt-cells. */
export function interruptsOf(fdt: Fdt, node: FdtNode): Result<InterruptSpec[]> {
  if (node.props.has('interrupts-extended')) {
    const raw = getU32Array(node, 'interrupts-extended');
    if (!raw.ok) return raw;
    const out: InterruptSpec[] = [];
    for (let i = 0; i < raw.value.length; ) {
      const controller = fdt.phandles.get(raw.value[i]);
      if (controller === undefined) {
        return err(`${nodePath(node)}: interrupts-extended phandle ${hex(raw.value[i])} does not name any node`);
      }
      const n = getU32(controller, '#interrupt-cells');
      if (!n.ok) return n;
      if (i + 1 + n.value > raw.value.length) {
        return err(`${nodePath(node)}: interrupts-extended ends inside a ${n.value}-cell specifier for ${nodePath(controller)}`);
      }
      out.push({ controller, cells: raw.value.slice(i + 1, i + 1 + n.value) });
      i += 1 + n.value;
    }
    return ok(out);
  }
  if (!node.props.has('interrupts')) return ok([]);
  const controller = interruptParentOf(fdt, node);
  if (!controller.ok) return controller;
  const n = getU32(controller.value, '#interrupt-cells');
  if (!n.ok) return n;
  const raw = getU32Array(node, 'interrupts');
  if (!raw.ok) return raw;
  if (n.value === 0 || raw.value.length % n.value !== 0) {
    return err(
      `${nodePath(node)}: 'interrupts' has ${raw.value.length} cells, not a multiple of #interrupt-cells ${n.value} of ${nodePath(controller.value)}`,
    );
  }
  const out: InterruptSpec[] = [];
  for (let i = 0; i < raw.value.length; i += n.value) {
    out.push({ controller: controller.value, cells: raw.value.slice(i, i + n.value) });
  }
  return ok(out);
}
