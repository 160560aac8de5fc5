import { SqliteStore } from '../../src/store/sqlite-store';

/**
 * A real SQLite store in memory whose group commits run at once, when asked for: a session or
 * a server on it answers synchronously, so that a test can read what it wrote right away.
 */
export function immediateStore(): SqliteStore {
  return new SqliteStore({ file: ':memory:', fsync: 'normal', schedule: (flush) => flush() });
}
