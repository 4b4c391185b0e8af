// The RSP framing layer: checksums, escaping, and a decoder fed arbitrary TCP pieces.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { checksum, escapeBinary, frame, fromHex, MAX_PAYLOAD, PacketDecoder, toHex, unescapeBinary } from '../../src/gdb/packet.ts';

describe('RSP framing', () => {
  it('frames with the modulo-256 sum as two lower-case hex digits', () => {
    expect(frame('OK')).toBe('$OK#9a');
    expect(frame('')).toBe('$#00');
    expect(checksum('qSupported')).toBe(0x37);
  });

  it('escapes exactly #, $, } and * as } then the byte xor 0x20, and unescapes back (any bytes)', () => {
    expect(escapeBinary('a#b$c}d*e')).toBe('a}\x03b}\x04c}]d}\x0ae');
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), (bytes) => {
        const s = Buffer.from(bytes).toString('latin1');
        const esc = escapeBinary(s);
        expect(/[#$*]/.test(esc)).toBe(false);
        expect(Array.from(unescapeBinary(esc)!)).toEqual(Array.from(bytes));
      }),
    );
    expect(unescapeBinary('ab}')).toBeUndefined();
  });

  it('converts hex both ways and rejects odd or non-hex text', () => {
    expect(toHex(Uint8Array.of(0, 0xab, 0x10))).toBe('00ab10');
    expect(Array.from(fromHex('00AB10')!)).toEqual([0, 0xab, 0x10]);
    expect(fromHex('abc')).toBeUndefined();
    expect(fromHex('zz')).toBeUndefined();
  });
});

describe('PacketDecoder', () => {
  it('reassembles a packet split over many chunks, with acks and Ctrl-C between packets', () => {
    const d = new PacketDecoder();
    const wire = '+' + frame('m40000000,4') + '\x03-' + frame('c');
    const items = [...wire].flatMap((ch) => d.feed(ch));
    expect(items).toEqual([{ kind: 'ack' }, { kind: 'packet', payload: 'm40000000,4' }, { kind: 'interrupt' }, { kind: 'nak' }, { kind: 'packet', payload: 'c' }]);
    expect(d.midPacket).toBe(false);
  });

  it('reports a bad checksum (and a non-hex checksum) instead of the packet', () => {
    const d = new PacketDecoder();
    expect(d.feed('$OK#00$OK#zz')).toEqual([
      { kind: 'bad-checksum', payload: 'OK' },
      { kind: 'bad-checksum', payload: 'OK' },
    ]);
  });

  it('knows when a packet is cut in half, and restarts on a new $', () => {
    const d = new PacketDecoder();
    expect(d.feed('$m4000')).toEqual([]);
    expect(d.midPacket).toBe(true);
    expect(d.feed('$g#67')).toEqual([{ kind: 'packet', payload: 'g' }]);
  });

  it('keeps binary payloads byte for byte (X packets)', () => {
    const d = new PacketDecoder();
    const payload = 'X40000000,2:' + escapeBinary('\xff#');
    expect(d.feed(Buffer.from(frame(payload), 'latin1'))).toEqual([{ kind: 'packet', payload }]);
  });

  it('drops an oversized packet as bad rather than buffering without bound', () => {
    const d = new PacketDecoder();
    const big = 'x'.repeat(MAX_PAYLOAD + 10);
    const items = d.feed(frame(big));
    expect(items).toEqual([{ kind: 'bad-checksum', payload: '' }]);
    expect(d.feed(frame('g'))).toEqual([{ kind: 'packet', payload: 'g' }]);
  });
});
