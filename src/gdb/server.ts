/**
 * A TCP listener on 127.0.0.1 for one debug target: one debugger at a time. A second client
 * gets an error reply to its first packet (GDB prints it as "Remote failure reply") and is
 * disconnected; the first keeps its session. A socket error or a disconnect, even in the
 * middle of a packet, ends that session as a detach: the emulator carries on.
 */
import { createServer, type Server, type Socket } from 'node:net';
import { frame, PacketDecoder } from './packet.ts';
import { GdbSession, type DebugTarget, type StopReason } from './session.ts';

export interface ServerHooks {
  /** A debugger connected: the target stops and the session starts with this stop reason. */
  attach(): StopReason;
  /** The connection closed (after `D`, `k`, or a plain disconnect). */
  detached(how: 'detach' | 'disconnect', midPacket: boolean): void;
  log(text: string): void;
}

/** How long a refused second client has to send its first packet before we just hang up. */
const REFUSE_WAIT_MS = 2000;

export class GdbServer {
  private readonly server: Server;
  private client: { socket: Socket; session: GdbSession; ended: boolean } | undefined;
  private readonly target: DebugTarget;
  private readonly hooks: ServerHooks;
  private readonly sockets = new Set<Socket>();
  readonly label: string;

  private constructor(label: string, target: DebugTarget, hooks: ServerHooks) {
    this.label = label;
    this.target = target;
    this.hooks = hooks;
    this.server = createServer((s) => this.accept(s));
  }

  /** Listens on 127.0.0.1:port (0 = any free port). */
  static listen(label: string, port: number, target: DebugTarget, hooks: ServerHooks): Promise<{ ok: true; server: GdbServer } | { ok: false; error: string }> {
    const srv = new GdbServer(label, target, hooks);
    return new Promise((resolve) => {
      srv.server.once('error', (e: NodeJS.ErrnoException) => resolve({ ok: false, error: `cannot listen on 127.0.0.1:${port} for ${label}: ${e.code ?? e.message}` }));
      srv.server.listen(port, '127.0.0.1', () => {
        srv.server.on('error', (e) => hooks.log(`${label}: ${e.message}`));
        resolve({ ok: true, server: srv });
      });
    });
  }

  get port(): number {
    const a = this.server.address();
    return typeof a === 'object' && a ? a.port : 0;
  }

  /** The current session, if a debugger is attached. */
  get session(): GdbSession | undefined {
    return this.client && !this.client.ended ? this.client.session : undefined;
  }

  private accept(socket: Socket): void {
    socket.setNoDelay(true);
    this.sockets.add(socket);
    socket.on('close', () => this.sockets.delete(socket));
    if (this.client) return this.refuse(socket);
    const state = { socket, session: undefined as unknown as GdbSession, ended: false };
    const finish = (how: 'detach' | 'disconnect') => {
      if (state.ended) return;
      state.ended = true;
      const mid = state.session.midPacket;
      if (this.client === state) this.client = undefined;
      this.hooks.detached(how, mid);
    };
    state.session = new GdbSession(this.target, this.hooks.attach(), {
      send: (data) => {
        if (!socket.destroyed) socket.write(Buffer.from(data, 'latin1'));
      },
      close: () => {
        finish('detach');
        socket.end();
      },
      log: (t) => this.hooks.log(`${this.label}: ${t}`),
    });
    this.client = state;
    socket.on('data', (chunk) => {
      try {
        state.session.receive(chunk);
      } catch (e) {
        // A bug in a command handler must not take the emulator down: drop this client.
        this.hooks.log(`${this.label}: internal error, closing the connection: ${(e as Error).stack ?? e}`);
        finish('disconnect');
        socket.destroy();
      }
    });
    socket.on('error', () => finish('disconnect'));
    socket.on('close', () => finish('disconnect'));
  }

  private refuse(socket: Socket): void {
    const why = `E.xenvm-emu: ${this.label} already has a debugger attached (one client at a time)`;
    this.hooks.log(`${this.label}: refused a second debugger connection (one is attached)`);
    const decoder = new PacketDecoder();
    const timer = setTimeout(() => socket.destroy(), REFUSE_WAIT_MS);
    socket.on('data', (chunk) => {
      if (decoder.feed(chunk).some((i) => i.kind === 'packet')) {
        clearTimeout(timer);
        socket.end(Buffer.from('+' + frame(why), 'latin1'));
      }
    });
    socket.on('error', () => clearTimeout(timer));
    socket.on('close', () => clearTimeout(timer));
  }

  /** Stops listening; open connections get what was sent to them, then a short grace, then the end. */
  close(): Promise<void> {
    const closed = new Promise<void>((r) => this.server.close(() => r()));
    for (const s of this.sockets) {
      s.end();
      setTimeout(() => s.destroy(), 300).unref();
    }
    return closed;
  }
}
