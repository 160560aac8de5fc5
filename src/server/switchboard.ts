import { Observable } from 'rxjs';
import { ServerView, UserId } from './service';

/** Who hears the signals for a user while this server speaks for it: its connection. */
export interface SignalListener<Signal> {
  hear(signal: Signal): void;
}

/**
 * Where the signals between users go: to one user wherever it is connected, to every user of the
 * chat, or to this server's users only. One server is its own switchboard (SignalHub); the
 * servers of a cluster share one through their bus.
 *
 * A user's signals go to a listener, not to a subscription: there is one per connected user, and
 * an RxJS subscription of them cost every connection about 500 bytes. The connection that
 * listens owns its listening, and leaves once, when it ends or speaks for another user.
 */
export interface Switchboard<Signal> extends ServerView {
  /** From now on, `listener` hears the signals for user `id`: this server speaks for that user. */
  listen(id: UserId, listener: SignalListener<Signal>): void;
  /** `listener` stops hearing user `id`'s signals; a newer listener for the user keeps them. */
  leave(id: UserId, listener: SignalListener<Signal>): void;
  send(id: UserId, signal: Signal): void;
  /** To every user of the chat. */
  broadcast(signal: Signal): void;
  /** To every user connected to this server. */
  broadcastHere(signal: Signal): void;
  /**
   * Completes once the rest of the chat knows of every user who came or went so far: at once
   * for one server; for a node of a cluster, once Redis has it.
   */
  settled(): Observable<void>;
}
