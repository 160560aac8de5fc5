import { Observable } from 'rxjs';

/**
 * One connection's byte stream, as protocol code sees it: no sockets.
 *
 * `chunks` completes when the peer ends its side and errors when the connection fails; it is
 * subscribed once, for the connection's life. `closed` emits once the connection is fully
 * closed, whoever closed it, then completes.
 */
export interface Transport {
  readonly remoteAddress: string;
  readonly chunks: Observable<Buffer>;
  readonly closed: Observable<void>;
  /** Queues bytes to send; when the peer reads slower than it sends, reading from it pauses. */
  write(bytes: Uint8Array): void;
  /** Sends what is queued, then closes; a peer that does not take it in time is cut off. */
  end(): void;
  /** Closes now, dropping what is queued. */
  destroy(): void;
  /** Reads nothing from the peer for `ms` (a peer over its rate): its bytes wait in the network. */
  pauseFor(ms: number): void;
  /** Whether it reads from the peer now: not while paused for a rate or for a peer that does not read. */
  readonly reading: boolean;
}

export type TransportErrorCode = 'SLOW_CONSUMER';

/** A connection the transport itself gave up on. */
export class TransportError extends Error {
  constructor(
    readonly code: TransportErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'TransportError';
  }
}
