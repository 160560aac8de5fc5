import { Observable } from 'rxjs';
import { ServerView, UserId } from './service';

/**
 * Where the signals between users go: to one user wherever it is connected, to every user of the
 * chat, or to this server's users only. One server is its own switchboard (SignalHub); the
 * servers of a cluster share one through their bus.
 */
export interface Switchboard<Signal> extends ServerView {
  /** The signals for user `id`, while subscribed: this server speaks for that user. */
  signalsFor(id: UserId): Observable<Signal>;
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
