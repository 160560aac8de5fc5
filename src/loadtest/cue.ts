import { Observable, Subscriber } from 'rxjs';

/**
 * A signal that fires once, for any number of waiting streams, like a ReplaySubject(1) that
 * emits once. Its waiters are a set, so each that leaves costs O(1): ten thousand clients
 * leaving a Subject's observer array cost O(n²).
 */
export class Cue {
  private fired = false;
  private readonly waiting = new Set<Subscriber<void>>();

  /** Emits once the cue has fired (at once if it has), then completes. */
  readonly fired$ = new Observable<void>((subscriber) => {
    if (this.fired) {
      subscriber.next();
      subscriber.complete();
      return undefined;
    }
    this.waiting.add(subscriber);
    return () => this.waiting.delete(subscriber);
  });

  fire(): void {
    if (this.fired) return;
    this.fired = true;
    for (const subscriber of this.waiting) {
      subscriber.next();
      subscriber.complete();
    }
  }
}
