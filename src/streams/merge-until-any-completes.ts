import { Observable } from 'rxjs';

/** Like `merge`, but completes as soon as any one source completes, not when all have. */
export function mergeUntilAnyCompletes<T>(...sources: Observable<T>[]): Observable<T> {
  return new Observable<T>((subscriber) => {
    for (const source of sources) {
      if (subscriber.closed) break;
      subscriber.add(
        source.subscribe({
          next: (value) => subscriber.next(value),
          error: (error: unknown) => subscriber.error(error),
          complete: () => subscriber.complete(),
        }),
      );
    }
  });
}
