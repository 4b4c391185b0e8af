/**
 * A tiny DTB writer for tests that must not depend on dtc (malformed blobs, fuzzing).
 * Produces version 17 blobs laid out as dtc does: header, reservation map, structure
 * block, strings block.
 */
export interface WNode {
  name: string;
  props?: [string, Uint8Array][];
  children?: WNode[];
}

export const cellsOf = (...cs: number[]): Uint8Array => {
  const b = new Uint8Array(cs.length * 4);
  const dv = new DataView(b.buffer);
  cs.forEach((c, i) => dv.setUint32(i * 4, c >>> 0));
  return b;
};
export const str = (...ss: string[]): Uint8Array => new TextEncoder().encode(ss.map((s) => s + '\0').join(''));

export interface Layout {
  blob: Uint8Array;
  offDtStruct: number;
  offDtStrings: number;
}

export function writeFdt(root: WNode, reservations: [bigint, bigint][] = []): Layout {
  const strings: number[] = [];
  const strIndex = new Map<string, number>();
  const nameOff = (n: string) => {
    let o = strIndex.get(n);
    if (o === undefined) {
      o = strings.length;
      strIndex.set(n, o);
      for (const c of n) strings.push(c.charCodeAt(0));
      strings.push(0);
    }
    return o;
  };
  const st: number[] = [];
  const u32 = (v: number) => st.push((v >>> 24) & 0xff, (v >>> 16) & 0xff, (v >>> 8) & 0xff, v & 0xff);
  const pad = () => {
    while (st.length % 4) st.push(0);
  };
  const emit = (n: WNode) => {
    u32(1);
    for (const c of n.name) st.push(c.charCodeAt(0));
    st.push(0);
    pad();
    for (const [k, v] of n.props ?? []) {
      u32(3);
      u32(v.length);
      u32(nameOff(k));
      st.push(...v);
      pad();
    }
    for (const c of n.children ?? []) emit(c);
    u32(2);
  };
  emit(root);
  u32(9);

  const offRsv = 40;
  const rsvSize = (reservations.length + 1) * 16;
  const offDtStruct = offRsv + rsvSize;
  const offDtStrings = offDtStruct + st.length;
  const total = offDtStrings + strings.length;
  const blob = new Uint8Array(total);
  const dv = new DataView(blob.buffer);
  const hdr = [0xd00dfeed, total, offDtStruct, offDtStrings, offRsv, 17, 16, 0, strings.length, st.length];
  hdr.forEach((v, i) => dv.setUint32(i * 4, v));
  reservations.forEach(([a, s], i) => {
    dv.setBigUint64(offRsv + i * 16, a);
    dv.setBigUint64(offRsv + i * 16 + 8, s);
  });
  blob.set(st, offDtStruct);
  blob.set(strings, offDtStrings);
  return { blob, offDtStruct, offDtStrings };
}
