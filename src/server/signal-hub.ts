import { EMPTY, Observable, Subscriber } from 'rxjs';
import { UserId } from './service';
import { Switchboard } from './switchboard';

/**
 * Delivers signals to connected users: to one user by id in O(1), or to everyone. Each user's
 * signals are a stream, subscribed while its connection speaks for that user. When a second
 * connection listens for the same user (a resumed session taking over), it takes the user's
 * signals from then on, and the first one's leaving does not take them away.
 */
export class SignalHub<Signal> implements Switchboard<Signal> {
  private readonly listeners = new Map<UserId, Subscriber<Signal>>();

  signalsFor(id: UserId): Observable<Signal> {
    return new Observable<Signal>((subscriber) => {
      this.listeners.set(id, subscriber);
      return () => {
        if (this.listeners.get(id) === subscriber) this.listeners.delete(id);
      };
    });
  }

  isOnline(id: UserId): boolean {
    return this.listeners.has(id);
  }

  send(id: UserId, signal: Signal): void {
    this.listeners.get(id)?.next(signal);
  }

  broadcast(signal: Signal): void {
    this.broadcastHere(signal);
  }

  broadcastHere(signal: Signal): void {
    for (const listener of this.listeners.values()) listener.next(signal);
  }

  settled(): Observable<void> {
    return EMPTY;
  }

  /** The users connected now. */
  users(): IterableIterator<UserId> {
    return this.listeners.keys();
  }
}
