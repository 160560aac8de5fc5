import { firstValueFrom, Observable } from 'rxjs';
import { Outgoing } from '../../src/store/chat-store';
import { SqliteStore } from '../../src/store/sqlite-store';

/**
 * A real SQLite store in memory whose group commits run at once, when asked for: a session or
 * a server on it answers synchronously, so that a test can read what it wrote right away.
 */
export function immediateStore(): SqliteStore {
  return new SqliteStore({ file: ':memory:', fsync: 'normal', schedule: (flush) => flush() });
}

/** A secret hash, different for each `n`. */
export function hash(n: number): Buffer {
  return Buffer.alloc(32, n);
}

export function message(from: bigint, recipient: bigint, msg: string, sentNow = false): Outgoing {
  return { from, recipient, msg, sentNow };
}

/** What a store call emits, once its turn is done. */
export function result<T>(work: Observable<T>): Promise<T> {
  return firstValueFrom(work);
}

/** The error a store call ends with. */
export async function failure(work: Observable<unknown>): Promise<Error> {
  try {
    await firstValueFrom(work);
  } catch (error) {
    return error as Error;
  }
  throw new Error('the call did not fail');
}
