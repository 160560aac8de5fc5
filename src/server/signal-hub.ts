import { Observable, Subscriber } from 'rxjs';
import { UserId } from './service';

/**
 * Delivers signals to connected users: to one user by id in O(1), or to everyone. Each user's
 * signals are a stream, subscribed while its connection lives.
 */
export class SignalHub<Signal> {
  private readonly listeners = new Map<UserId, Subscriber<Signal>>();

  signalsFor(id: UserId): Observable<Signal> {
    return new Observable<Signal>((subscriber) => {
      this.listeners.set(id, subscriber);
      return () => this.listeners.delete(id);
    });
  }

  send(id: UserId, signal: Signal): void {
    this.listeners.get(id)?.next(signal);
  }

  broadcast(signal: Signal): void {
    for (const listener of this.listeners.values()) listener.next(signal);
  }
}
