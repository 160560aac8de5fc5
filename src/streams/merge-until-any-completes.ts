import { dematerialize, materialize, merge, Observable } from 'rxjs';

/** Like `merge`, but completes as soon as any one source completes, not when all have. */
export function mergeUntilAnyCompletes<T>(...sources: Observable<T>[]): Observable<T> {
  return merge(...sources.map((source) => source.pipe(materialize()))).pipe(dematerialize());
}
