import { EventEmitter } from 'node:events';
import { SocketLike } from '../../src/transport/socket-transport';

/**
 * A socket without a network, driven by the test: `receive`, `peerEnds` and `reset` play the
 * peer; `written` holds what was sent. Like a real socket it emits no `data` while paused and
 * emits `close` asynchronously, once.
 */
export class FakeSocket extends EventEmitter implements SocketLike {
  readonly remoteAddress = '10.0.0.1';
  readonly remotePort = 5555;
  readonly written: Buffer[] = [];
  writableLength = 0;
  destroyed = false;
  paused = false;
  ended = false;
  /** What `write` answers: false plays a peer that does not read. */
  acceptsWrites = true;
  private held: Buffer[] = [];
  private peerEnded = false;

  write(bytes: Uint8Array): boolean {
    this.written.push(Buffer.from(bytes));
    if (!this.acceptsWrites) this.writableLength += bytes.length;
    return this.acceptsWrites;
  }

  end(): void {
    this.ended = true;
    if (this.peerEnded) this.destroy();
  }

  destroy(): void {
    if (this.destroyed) return;
    this.destroyed = true;
    process.nextTick(() => this.emit('close'));
  }

  pause(): void {
    this.paused = true;
  }

  resume(): void {
    this.paused = false;
    const held = this.held;
    this.held = [];
    for (const chunk of held) this.receive(chunk);
  }

  /** The peer reads everything queued. */
  drain(): void {
    this.acceptsWrites = true;
    this.writableLength = 0;
    this.emit('drain');
  }

  receive(chunk: Uint8Array | string): void {
    const bytes = Buffer.from(chunk);
    if (this.paused) this.held.push(bytes);
    else this.emit('data', bytes);
  }

  /** The peer ends its side: `end`; once both sides have ended, `close`. */
  peerEnds(): void {
    this.peerEnded = true;
    this.emit('end');
    if (this.ended) this.destroy();
  }

  /** The connection is reset: `error`, then `close`, no `end`. */
  reset(): void {
    const error = Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' });
    this.emit('error', error);
    this.destroy();
  }

  listenerTotal(): number {
    return this.eventNames().reduce((total, name) => total + this.listenerCount(name), 0);
  }

  bytesWritten(): Buffer {
    return Buffer.concat(this.written);
  }
}
