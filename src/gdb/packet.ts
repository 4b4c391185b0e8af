/**
 * The framing layer of the GDB remote serial protocol (GDB manual, "Remote Protocol",
 * "Overview"): `$payload#cs` with cs the modulo-256 sum of the payload bytes as two hex
 * digits, `+`/`-` acknowledgements, and the lone 0x03 byte that asks a running target to
 * stop. Binary payloads (the `X` packet, qXfer replies) escape `#`, `$`, `}` and `*` as
 * `}` followed by the byte XOR 0x20.
 *
 * Payloads are handled as latin1 strings: one char per byte, so binary data survives.
 */

/** What the byte stream from the debugger contained, in order. */
export type Incoming =
  /** A packet whose checksum matched (payload still escaped, as sent). */
  | { kind: 'packet'; payload: string }
  /** A packet whose checksum did not match: answer '-' so the debugger sends it again. */
  | { kind: 'bad-checksum'; payload: string }
  | { kind: 'ack' }
  | { kind: 'nak' }
  /** 0x03 outside a packet: stop the target (Ctrl-C in the debugger). */
  | { kind: 'interrupt' };

/** Longest payload we accept; anything longer is garbage or an attack, and is dropped. */
export const MAX_PAYLOAD = 0x10000;

export function checksum(payload: string): number {
  let sum = 0;
  for (let i = 0; i < payload.length; i++) sum = (sum + payload.charCodeAt(i)) & 0xff;
  return sum;
}

/** `$payload#cs` for a payload that is already escaped where needed. */
export function frame(payload: string): string {
  return `$${payload}#${checksum(payload).toString(16).padStart(2, '0')}`;
}

/** Escapes the bytes the framing reserves (for binary data in replies). */
export function escapeBinary(data: string): string {
  let out = '';
  for (let i = 0; i < data.length; i++) {
    const c = data.charCodeAt(i);
    out += c === 0x23 || c === 0x24 || c === 0x7d || c === 0x2a ? '}' + String.fromCharCode(c ^ 0x20) : data[i];
  }
  return out;
}

/** Undoes `escapeBinary` (the `X` packet's data). A trailing lone '}' is malformed. */
export function unescapeBinary(data: string): Uint8Array | undefined {
  const out: number[] = [];
  for (let i = 0; i < data.length; i++) {
    const c = data.charCodeAt(i);
    if (c === 0x7d) {
      if (i + 1 >= data.length) return undefined;
      out.push(data.charCodeAt(++i) ^ 0x20);
    } else out.push(c & 0xff);
  }
  return Uint8Array.from(out);
}

export function toHex(bytes: Uint8Array): string {
  let s = '';
  for (const b of bytes) s += b.toString(16).padStart(2, '0');
  return s;
}

/** Hex pairs to bytes; undefined when the text is not an even number of hex digits. */
export function fromHex(text: string): Uint8Array | undefined {
  if (text.length % 2 !== 0 || !/^[0-9a-fA-F]*$/.test(text)) return undefined;
  const out = new Uint8Array(text.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(text.slice(2 * i, 2 * i + 2), 16);
  return out;
}

/**
 * Splits the debugger's byte stream into `Incoming` items. Keeps partial packets across
 * `feed` calls (TCP delivers arbitrary pieces); bytes between packets other than the
 * acknowledgements and 0x03 are line noise and ignored.
 */
export class PacketDecoder {
  private state: 'idle' | 'payload' | 'cs1' | 'cs2' = 'idle';
  private payload: string[] = [];
  private payloadLength = 0;
  private cs = '';
  private overflow = false;

  /** True while a packet has started but not ended (a disconnect now is mid-packet). */
  get midPacket(): boolean {
    return this.state !== 'idle';
  }

  feed(chunk: Uint8Array | string): Incoming[] {
    const text = typeof chunk === 'string' ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength).toString('latin1');
    const out: Incoming[] = [];
    let runStart = -1;
    const flushRun = (end: number) => {
      if (runStart >= 0) {
        const part = text.slice(runStart, end);
        this.payloadLength += part.length;
        if (this.payloadLength > MAX_PAYLOAD) this.overflow = true;
        else this.payload.push(part);
        runStart = -1;
      }
    };
    for (let i = 0; i < text.length; i++) {
      const ch = text[i];
      switch (this.state) {
        case 'idle':
          if (ch === '$') this.begin();
          else if (ch === '+') out.push({ kind: 'ack' });
          else if (ch === '-') out.push({ kind: 'nak' });
          else if (ch === '\x03') out.push({ kind: 'interrupt' });
          break;
        case 'payload':
          if (ch === '#') {
            flushRun(i);
            this.state = 'cs1';
          } else if (ch === '$') {
            // A new packet began before this one ended: the sender gave up on it.
            runStart = -1;
            this.begin();
          } else if (runStart < 0) runStart = i;
          break;
        case 'cs1':
          this.cs = ch;
          this.state = 'cs2';
          break;
        case 'cs2': {
          this.cs += ch;
          this.state = 'idle';
          const payload = this.payload.join('');
          const want = /^[0-9a-fA-F]{2}$/.test(this.cs) ? parseInt(this.cs, 16) : -1;
          if (this.overflow || want !== checksum(payload)) out.push({ kind: 'bad-checksum', payload: this.overflow ? '' : payload });
          else out.push({ kind: 'packet', payload });
          this.payload = [];
          break;
        }
      }
    }
    if (this.state === 'payload') flushRun(text.length);
    return out;
  }

  private begin(): void {
    this.state = 'payload';
    this.payload = [];
    this.payloadLength = 0;
    this.overflow = false;
  }
}
