import { MonoTypeOperatorFunction, Observable } from 'rxjs';

/**
 * Emits `first`, then what the source emits: `startWith` for one value, without the `concat`
 * that `startWith` builds for every subscription, which counts when there is one per connection.
 */
export function startingWith<T>(first: T): MonoTypeOperatorFunction<T> {
  return (source) =>
    new Observable<T>((subscriber) => {
      subscriber.next(first);
      return source.subscribe({
        next: (value) => subscriber.next(value),
        error: (error: unknown) => subscriber.error(error),
        complete: () => subscriber.complete(),
      });
    });
}
