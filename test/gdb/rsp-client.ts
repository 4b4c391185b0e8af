// A minimal GDB-side RSP client for tests: raw bytes in, decoded replies out.
import { connect, type Socket } from 'node:net';
import { frame, PacketDecoder, type Incoming } from '../../src/gdb/packet.ts';

export class RspClient {
  private readonly decoder = new PacketDecoder();
  private readonly items: Incoming[] = [];
  private waiter: (() => void) | undefined;
  closed = false;

  private constructor(readonly socket: Socket) {
    socket.on('data', (chunk) => {
      for (const i of this.decoder.feed(chunk)) {
        // Acknowledge every reply, as GDB does in ack mode.
        if (i.kind === 'packet') socket.write('+');
        this.items.push(i);
      }
      this.waiter?.();
    });
    socket.on('close', () => {
      this.closed = true;
      this.waiter?.();
    });
    socket.on('error', () => {});
  }

  static open(port: number): Promise<RspClient> {
    return new Promise((resolve, reject) => {
      const s = connect(port, '127.0.0.1', () => resolve(new RspClient(s)));
      s.once('error', reject);
    });
  }

  /** Raw bytes to the stub. */
  write(data: string): void {
    this.socket.write(Buffer.from(data, 'latin1'));
  }

  /** Next item from the stub (ack, nak or packet); undefined if the connection closed first. */
  async next(timeoutMs = 5000): Promise<Incoming | undefined> {
    const until = Date.now() + timeoutMs;
    while (this.items.length === 0) {
      if (this.closed) return undefined;
      if (Date.now() > until) throw new Error('no reply from the stub');
      await new Promise<void>((r) => {
        this.waiter = r;
        setTimeout(r, 50);
      });
    }
    return this.items.shift();
  }

  /** Next reply packet, skipping acknowledgements. */
  async reply(timeoutMs = 5000): Promise<string | undefined> {
    for (;;) {
      const i = await this.next(timeoutMs);
      if (i === undefined) return undefined;
      if (i.kind === 'packet') return i.payload;
    }
  }

  /** Sends a command and waits for its reply. */
  async ask(payload: string): Promise<string | undefined> {
    this.write(frame(payload));
    return this.reply();
  }

  close(): void {
    this.socket.destroy();
  }
}
