import { Observable, Subscriber } from 'rxjs';
import { Transport, TransportError } from './transport';

/** The part of `net.Socket` a transport uses; tests pass a fake. */
export interface SocketLike {
  readonly remoteAddress?: string | undefined;
  readonly remotePort?: number | undefined;
  readonly writableLength: number;
  readonly destroyed: boolean;
  write(bytes: Uint8Array): boolean;
  end(): unknown;
  destroy(): unknown;
  pause(): unknown;
  resume(): unknown;
  on(event: 'data', listener: (chunk: Buffer) => void): unknown;
  on(event: 'end' | 'close', listener: () => void): unknown;
  on(event: 'error', listener: (error: Error) => void): unknown;
  once(event: 'drain', listener: () => void): unknown;
  off(event: 'data', listener: (chunk: Buffer) => void): unknown;
  off(event: 'end' | 'close' | 'drain', listener: () => void): unknown;
  off(event: 'error', listener: (error: Error) => void): unknown;
}

export interface TransportOptions {
  /** How long `end()` waits for the peer to take what is queued before destroying the socket. */
  readonly closeGraceMs: number;
  /** Bytes queued for a peer that does not read, past which it is cut off as a slow consumer. */
  readonly maxQueuedBytes: number;
  /** TCP keepalive probes after this long without traffic, so a vanished peer is noticed; none when absent. */
  readonly keepAliveMs?: number;
}

export const DEFAULT_TRANSPORT_OPTIONS: TransportOptions = {
  closeGraceMs: 1000,
  maxQueuedBytes: 1024 * 1024,
};

/** Leads from a socket to its transport: a listener is called with its socket as `this`. */
const TRANSPORT = Symbol('SocketTransport');

type ServedSocket = SocketLike & { readonly [TRANSPORT]: SocketTransport };

// The same listeners for every socket: a closure each cost every connection about 100 bytes.
function onData(this: ServedSocket, chunk: Buffer): void {
  this[TRANSPORT].received(chunk);
}

function onEnd(this: ServedSocket): void {
  this[TRANSPORT].inputEnded(null);
}

function onError(this: ServedSocket, error: Error): void {
  this[TRANSPORT].inputEnded(error);
}

function onDrain(this: ServedSocket): void {
  this[TRANSPORT].drained();
}

function onClose(this: ServedSocket): void {
  this[TRANSPORT].socketClosed();
}

function onHoldOver(transport: SocketTransport): void {
  transport.holdOver();
}

/**
 * Adapts a socket to a Transport. It listens to `error` and `close` from the start, so an error
 * never goes unheard, and removes each of its listeners, by name, when the socket closes.
 */
export class SocketTransport implements Transport {
  private readonly socket: ServedSocket;
  private peer: string | undefined;

  private reader: Subscriber<Buffer> | undefined;
  /** How the input ended before anyone read it: completed (null) or failed (the error). */
  private inputEnd: Error | null | undefined;
  private isClosed = false;
  /** Who waits for the close; the array is made when the first one comes, at its size. */
  private closeWatchers: Subscriber<void>[] | undefined;
  private waitingForDrain = false;
  /** Reading is paused on purpose until this timer fires. */
  private holdTimer: NodeJS.Timeout | undefined;
  private ending = false;
  private graceTimer: NodeJS.Timeout | undefined;

  constructor(
    socket: SocketLike,
    private readonly options: TransportOptions = DEFAULT_TRANSPORT_OPTIONS,
  ) {
    this.socket = Object.assign(socket, { [TRANSPORT]: this });
    socket.on('end', onEnd);
    socket.on('error', onError);
    socket.on('close', onClose);
  }

  /** Read when first asked for: it costs a system call, which a client never needs. */
  get remoteAddress(): string {
    this.peer ??= `${this.socket.remoteAddress ?? 'unknown'}:${this.socket.remotePort ?? 0}`;
    return this.peer;
  }

  // Made when asked for, so that a connection does not keep them once subscribed.
  get chunks(): Observable<Buffer> {
    return new Observable<Buffer>((subscriber) => this.startReading(subscriber));
  }

  get closed(): Observable<void> {
    return new Observable<void>((subscriber) => this.watchClose(subscriber));
  }

  write(bytes: Uint8Array): void {
    if (this.ending || this.socket.destroyed) return;
    if (!this.socket.write(bytes) && !this.waitingForDrain) {
      this.waitingForDrain = true;
      this.socket.pause();
      this.socket.once('drain', onDrain);
    }
    if (this.socket.writableLength > this.options.maxQueuedBytes) {
      this.fail(
        new TransportError(
          'SLOW_CONSUMER',
          `slow consumer: over ${this.options.maxQueuedBytes} bytes waiting to be sent`,
        ),
      );
    }
  }

  end(): void {
    if (this.ending || this.socket.destroyed) return;
    this.ending = true;
    this.socket.end();
    this.graceTimer = setTimeout(() => this.socket.destroy(), this.options.closeGraceMs);
  }

  destroy(): void {
    this.socket.destroy();
  }

  get reading(): boolean {
    return !this.waitingForDrain && this.holdTimer === undefined;
  }

  pauseFor(ms: number): void {
    if (this.socket.destroyed) return;
    clearTimeout(this.holdTimer);
    this.socket.pause();
    this.holdTimer = setTimeout(onHoldOver, ms, this);
  }

  /**
   * Reads into `subscriber` until it is closed. With no teardown: RxJS keeps one in an array
   * that, with its closure, cost every connection about 300 bytes. A reader that unsubscribed is
   * let go when the next chunk comes or the socket closes, and the chunk is dropped, as it would
   * be with no `data` listener (which does not pause the socket either).
   */
  private startReading(subscriber: Subscriber<Buffer>): void {
    if (this.reader && !this.reader.closed) {
      subscriber.error(new Error('a transport is read by one subscriber'));
      return;
    }
    if (this.inputEnd !== undefined) {
      if (this.inputEnd) subscriber.error(this.inputEnd);
      else subscriber.complete();
      return;
    }
    if (!this.reader) this.socket.on('data', onData);
    this.reader = subscriber;
  }

  /** Tells `subscriber` when the socket closes, at once if it already has. */
  private watchClose(subscriber: Subscriber<void>): () => void {
    if (this.isClosed) {
      subscriber.next();
      subscriber.complete();
      return () => undefined;
    }
    if (this.closeWatchers) this.closeWatchers.push(subscriber);
    else this.closeWatchers = [subscriber];
    return () => {
      const index = this.closeWatchers?.indexOf(subscriber) ?? -1;
      if (index >= 0) this.closeWatchers?.splice(index, 1);
    };
  }

  private fail(error: Error): void {
    this.inputEnded(error);
    this.socket.destroy();
  }

  // What the socket's listeners tell it.

  received(chunk: Buffer): void {
    if (this.reader?.closed === false) {
      this.reader.next(chunk);
    } else {
      this.socket.off('data', onData);
      this.reader = undefined;
    }
  }

  /** Records how the input ended, once, and tells the reader. */
  inputEnded(error: Error | null): void {
    if (this.inputEnd !== undefined) return;
    this.inputEnd = error;
    const reader = this.reader;
    if (!reader) return;
    if (error) reader.error(error);
    else reader.complete();
  }

  drained(): void {
    this.waitingForDrain = false;
    if (this.holdTimer === undefined) this.socket.resume();
  }

  holdOver(): void {
    this.holdTimer = undefined;
    if (!this.waitingForDrain) this.socket.resume();
  }

  socketClosed(): void {
    clearTimeout(this.graceTimer);
    clearTimeout(this.holdTimer);
    this.inputEnded(null);
    this.socket.off('data', onData);
    this.socket.off('end', onEnd);
    this.socket.off('error', onError);
    this.socket.off('close', onClose);
    this.socket.off('drain', onDrain);
    this.isClosed = true;
    const watchers = this.closeWatchers ?? [];
    this.closeWatchers = undefined;
    for (const watcher of watchers) {
      watcher.next();
      watcher.complete();
    }
  }
}
