import { performance } from 'node:perf_hooks';
import { Observable, Subscriber } from 'rxjs';

interface Queued {
  readonly operation: () => unknown;
  readonly subscriber: Subscriber<unknown>;
}

/**
 * When to commit: once this turn's I/O is done, but at most once every `intervalMs`, so that a
 * storm of small requests (connections arriving one by one) is committed in batches.
 */
export function pacedFlush(intervalMs: number): (flush: () => void) => void {
  let last = -Infinity;
  return (flush) => {
    const wait = last + intervalMs - performance.now();
    const run = () => {
      last = performance.now();
      flush();
    };
    if (wait <= 0) setImmediate(run);
    else setTimeout(run, wait);
  };
}

/**
 * Runs the operations asked for in one turn of the event loop together, in the order they were
 * asked for, in one transaction: a group commit. Each caller hears its own result once the
 * whole transaction is committed, or the transaction's error if it failed.
 */
export class GroupCommit {
  private queue: Queued[] = [];
  private scheduled = false;

  constructor(
    private readonly runInTransaction: (operations: () => void) => void,
    private readonly schedule: (flush: () => void) => void = pacedFlush(1),
  ) {}

  /** `operation`, run with the others of this turn once the observable is subscribed. */
  run<T>(operation: () => T): Observable<T> {
    return new Observable<T>((subscriber) => {
      const queued: Queued = { operation, subscriber };
      this.queue.push(queued);
      if (!this.scheduled) {
        this.scheduled = true;
        this.schedule(() => this.flush());
      }
    });
  }

  private flush(): void {
    const batch = this.queue.filter(({ subscriber }) => !subscriber.closed);
    this.queue = [];
    this.scheduled = false;
    if (batch.length === 0) return;
    const results: unknown[] = [];
    try {
      this.runInTransaction(() => {
        for (const { operation } of batch) results.push(operation());
      });
    } catch (error) {
      for (const { subscriber } of batch) subscriber.error(error);
      return;
    }
    batch.forEach(({ subscriber }, index) => {
      subscriber.next(results[index]);
      subscriber.complete();
    });
  }
}
