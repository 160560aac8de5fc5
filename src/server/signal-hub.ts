import { EMPTY, Observable } from 'rxjs';
import { UserId } from './service';
import { SignalListener, Switchboard } from './switchboard';

/**
 * Delivers signals to connected users: to one user by id in O(1), or to everyone. When a second
 * connection listens for the same user (a resumed session taking over), it takes the user's
 * signals from then on, and the first one's leaving does not take them away.
 */
export class SignalHub<Signal> implements Switchboard<Signal> {
  private readonly listeners = new Map<UserId, SignalListener<Signal>>();

  listen(id: UserId, listener: SignalListener<Signal>): void {
    this.listeners.set(id, listener);
  }

  leave(id: UserId, listener: SignalListener<Signal>): void {
    if (this.listeners.get(id) === listener) this.listeners.delete(id);
  }

  isOnline(id: UserId): boolean {
    return this.listeners.has(id);
  }

  send(id: UserId, signal: Signal): void {
    this.listeners.get(id)?.hear(signal);
  }

  broadcast(signal: Signal): void {
    this.broadcastHere(signal);
  }

  broadcastHere(signal: Signal): void {
    for (const listener of this.listeners.values()) listener.hear(signal);
  }

  settled(): Observable<void> {
    return EMPTY;
  }

  /** The users connected now. */
  users(): IterableIterator<UserId> {
    return this.listeners.keys();
  }
}
