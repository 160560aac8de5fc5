import Database from 'better-sqlite3';
import { existsSync, statSync } from 'node:fs';
import { Observable } from 'rxjs';
import { UserId } from '../server/service';
import {
  ChatStore,
  StoredDelivery,
  StoredUser,
  StoreOutcome,
  StoreWrite,
  UserSummary,
} from './chat-store';
import { GroupCommit } from './group-commit';

/** How hard a commit waits for the disk. */
export type FsyncPolicy = 'normal' | 'always';

export interface SqliteStoreOptions {
  /** A file name, or `:memory:` for a store that keeps nothing once the server stops. */
  readonly file: string;
  readonly fsync: FsyncPolicy;
  /** When the operations of a turn are committed: by default, once I/O of this turn is done. */
  readonly schedule?: (flush: () => void) => void;
}

/** The database cannot be used: said in one line. */
export class StoreOpenError extends Error {
  constructor(file: string, reason: string) {
    super(`cannot use the database ${file}: ${reason}`);
    this.name = 'StoreOpenError';
  }
}

const SCHEMA = `
  CREATE TABLE IF NOT EXISTS meta (
    key TEXT PRIMARY KEY,
    value INTEGER NOT NULL
  );
  INSERT OR IGNORE INTO meta (key, value) VALUES ('last_user_id', 0);
  CREATE TABLE IF NOT EXISTS users (
    id INTEGER PRIMARY KEY,
    secret_hash BLOB NOT NULL,
    created_at INTEGER NOT NULL,
    last_delivery INTEGER NOT NULL DEFAULT 0,
    acknowledged INTEGER NOT NULL DEFAULT 0,
    sent_up_to INTEGER NOT NULL DEFAULT 0
  );
  -- A run of one sender's messages to one recipient, stored together, with the delivery numbers
  -- first to last and the texts as a JSON array: a row costs about 2 µs to insert, whatever it
  -- holds. Acknowledged whole, it is deleted; until then its texts are kept.
  CREATE TABLE IF NOT EXISTS deliveries (
    recipient INTEGER NOT NULL,
    first INTEGER NOT NULL,
    last INTEGER NOT NULL,
    sender INTEGER NOT NULL,
    texts TEXT NOT NULL,
    accepted_at INTEGER NOT NULL,
    PRIMARY KEY (recipient, first)
  ) WITHOUT ROWID;
`;

/** A user's counters as one transaction changes them; written back once, when it ends. */
interface Mailbox {
  readonly id: UserId;
  readonly secretHash: Buffer;
  lastDelivery: bigint;
  acknowledged: bigint;
  sentUpTo: bigint;
  changed: boolean;
}

interface UserRow {
  id: bigint;
  secret_hash: Buffer;
  last_delivery: bigint;
  acknowledged: bigint;
  sent_up_to: bigint;
}

interface RunRow {
  first: bigint;
  sender: bigint;
  texts: string;
}

/** The texts of a run as one JSON array: written and read natively, in one call each. */
function packTexts(texts: readonly string[]): string {
  return JSON.stringify(texts);
}

function unpackTexts(packed: string): string[] {
  return JSON.parse(packed) as string[];
}

/** The messages of one write to one recipient: consecutive delivery numbers, one row. */
interface Run {
  readonly mailbox: Mailbox;
  readonly from: UserId;
  readonly first: bigint;
  readonly texts: string[];
}

function describeSqliteError(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return message.split('\n')[0] ?? message;
}

/** Refuses a database file that nobody may write to, as root could write to it anyway. */
function checkWritable(file: string): void {
  if (file === ':memory:' || !existsSync(file)) return;
  const stats = statSync(file);
  if (stats.isDirectory()) throw new StoreOpenError(file, 'it is a directory');
  if ((stats.mode & 0o222) === 0) throw new StoreOpenError(file, 'the file is read-only');
}

const LOCK_WAIT_MS = 1000;

/**
 * Pages of 16 KiB, not SQLite's 4: a run of deliveries is a row of a kilobyte or more, and a
 * table without rowids keeps its rows in the tree's pages, so that small pages hold three or four
 * rows and every insert and delete splits or merges them. Measured alone, a run of 29 messages
 * stored and later deleted took 28–39 µs with 4 KiB pages and 15–19 with 16 KiB; a new user, whose
 * commit writes whole pages to the log, 7.5–9 µs against 14.
 */
const PAGE_BYTES = 16 * 1024;

/** Users whose counters are kept in memory at most; past it, they are read again as needed. */
const MAILBOXES_KEPT = 10_000;

function openDatabase({ file, fsync }: SqliteStoreOptions): Database.Database {
  checkWritable(file);
  let db: Database.Database | undefined;
  try {
    // A second's wait, not better-sqlite3's 5 s: enough for a server that was just stopped to
    // let go of the file, and a database another server holds is refused soon.
    db = new Database(file, { timeout: LOCK_WAIT_MS });
    db.defaultSafeIntegers(true);
    // One server a database: a second one is refused at once instead of sharing the ids.
    db.pragma('locking_mode = EXCLUSIVE');
    // Taken only by a new database, before its first write; an existing one keeps its own.
    db.pragma(`page_size = ${PAGE_BYTES}`);
    db.pragma('journal_mode = WAL');
    db.pragma(`synchronous = ${fsync === 'always' ? 'FULL' : 'NORMAL'}`);
    // A write at once: a file that cannot be written, or is not a database, fails here.
    db.exec(`BEGIN IMMEDIATE; ${SCHEMA} COMMIT;`);
    const problems = db.pragma('quick_check', { simple: true }) as string;
    if (problems !== 'ok') throw new Error(`it is damaged (${problems})`);
    return db;
  } catch (error) {
    db?.close();
    if (error instanceof StoreOpenError) throw error;
    const reason = describeSqliteError(error);
    const code = (error as { code?: string }).code;
    throw new StoreOpenError(file, code === 'SQLITE_BUSY' ? 'another server is using it' : reason);
  }
}

/**
 * The embedded store: users and their waiting direct messages in one SQLite database, in WAL
 * mode. Everything asked for in one turn of the event loop is one transaction.
 */
export class SqliteStore implements ChatStore {
  readonly lastUserId: UserId;
  private readonly db: Database.Database;
  private readonly commits: GroupCommit;
  /**
   * Users' counters, read once and kept: this store is the database's only writer. What a
   * transaction changes is written back when it ends; a transaction that fails forgets them all.
   */
  private readonly mailboxes = new Map<UserId, Mailbox>();
  /** The mailboxes this transaction changed. */
  private unsaved: Mailbox[] = [];
  /** The highest id added in this transaction. */
  private newestUserId: UserId | undefined;
  private readonly statements;

  constructor(options: SqliteStoreOptions) {
    this.db = openDatabase(options);
    const db = this.db;
    this.statements = {
      lastUserId: db.prepare<[], { value: bigint }>(
        "SELECT value FROM meta WHERE key = 'last_user_id'",
      ),
      raiseLastUserId: db.prepare<[bigint]>(
        "UPDATE meta SET value = max(value, ?) WHERE key = 'last_user_id'",
      ),
      addUser: db.prepare<[bigint, Buffer, number]>(
        'INSERT INTO users (id, secret_hash, created_at) VALUES (?, ?, ?)',
      ),
      findUser: db.prepare<[bigint], UserRow>(
        'SELECT id, secret_hash, last_delivery, acknowledged, sent_up_to FROM users WHERE id = ?',
      ),
      removeUser: db.prepare<[bigint]>('DELETE FROM users WHERE id = ?'),
      saveUser: db.prepare<[bigint, bigint, bigint, bigint]>(
        'UPDATE users SET last_delivery = ?, acknowledged = ?, sent_up_to = ? WHERE id = ?',
      ),
      addRun: db.prepare<[bigint, bigint, bigint, bigint, string, number]>(
        'INSERT INTO deliveries (recipient, first, last, sender, texts, accepted_at) VALUES (?, ?, ?, ?, ?, ?)',
      ),
      removeRuns: db.prepare<[bigint, bigint]>(
        'DELETE FROM deliveries WHERE recipient = ? AND last <= ?',
      ),
      waiting: db.prepare<[bigint, bigint, number], RunRow>(
        'SELECT first, sender, texts FROM deliveries WHERE recipient = ? AND last > ? ORDER BY first LIMIT ?',
      ),
      users: db.prepare<[], { id: bigint; waiting: bigint }>(
        'SELECT id, last_delivery - acknowledged AS waiting FROM users ORDER BY id',
      ),
    };
    this.lastUserId = this.statements.lastUserId.get()?.value ?? 0n;
    const transaction = db.transaction((operations: () => void) => {
      try {
        operations();
        this.saveChanged();
        this.saveLastUserId();
      } finally {
        this.newestUserId = undefined;
      }
    });
    this.commits = new GroupCommit((operations) => {
      try {
        transaction(operations);
      } catch (error) {
        this.mailboxes.clear();
        this.unsaved = [];
        throw error;
      }
      if (this.mailboxes.size > MAILBOXES_KEPT) this.mailboxes.clear();
    }, options.schedule);
  }

  addUser(id: UserId, secretHash: Buffer): Observable<void> {
    return this.commits.run(() => {
      this.statements.addUser.run(id, secretHash, Date.now());
      if (this.newestUserId === undefined || id > this.newestUserId) this.newestUserId = id;
    });
  }

  findUser(id: UserId): Observable<StoredUser | undefined> {
    return this.commits.run(() => {
      const mailbox = this.mailbox(id);
      if (!mailbox) return undefined;
      const { secretHash, lastDelivery, acknowledged } = mailbox;
      return { id, secretHash, lastDelivery, acknowledged };
    });
  }

  releaseUser(id: UserId): Observable<void> {
    return this.commits.run(() => {
      const mailbox = this.mailbox(id);
      if (!mailbox || mailbox.lastDelivery > mailbox.acknowledged) return;
      this.mailboxes.delete(id);
      this.statements.removeUser.run(id);
    });
  }

  write(
    { messages, acknowledge }: StoreWrite,
    maxPending: number,
  ): Observable<readonly StoreOutcome[]> {
    return this.commits.run(() => {
      const runs = new Map<UserId, Run>();
      const outcomes = messages.map((message): StoreOutcome => {
        const mailbox = this.mailbox(message.recipient);
        if (!mailbox) return { refused: 'unknown-recipient' };
        if (mailbox.lastDelivery - mailbox.acknowledged >= BigInt(maxPending)) {
          return { refused: 'mailbox-full' };
        }
        const delivery = ++mailbox.lastDelivery;
        this.changed(mailbox);
        if (message.sentNow) mailbox.sentUpTo = delivery;
        const run = runs.get(mailbox.id);
        if (run?.from === message.from) run.texts.push(message.msg);
        else {
          if (run) this.addRun(run);
          runs.set(mailbox.id, {
            mailbox,
            from: message.from,
            first: delivery,
            texts: [message.msg],
          });
        }
        return { delivery };
      });
      for (const run of runs.values()) this.addRun(run);
      if (acknowledge) this.acknowledge(acknowledge.user, acknowledge.upTo);
      return outcomes;
    });
  }

  waiting(user: UserId, after: bigint, limit: number): Observable<readonly StoredDelivery[]> {
    return this.commits.run(() => {
      const mailbox = this.mailbox(user);
      if (!mailbox) return [];
      // What is acknowledged is gone, though the rest of its run is kept.
      const from = after > mailbox.acknowledged ? after : mailbox.acknowledged;
      // Each run holds one delivery at least: `limit` runs hold all that is asked for.
      const deliveries = this.statements.waiting
        .all(user, from, limit)
        .flatMap(({ first, sender, texts }) =>
          unpackTexts(texts).map((msg, index) => {
            const delivery = first + BigInt(index);
            return { delivery, from: sender, msg, redelivered: delivery <= mailbox.sentUpTo };
          }),
        )
        .filter(({ delivery }) => delivery > from)
        .slice(0, limit);
      const last = deliveries.at(-1)?.delivery ?? 0n;
      if (last > mailbox.sentUpTo) {
        mailbox.sentUpTo = last;
        this.changed(mailbox);
      }
      return deliveries;
    });
  }

  users(): Observable<readonly UserSummary[]> {
    return this.commits.run(() => {
      this.saveChanged();
      return this.statements.users.all();
    });
  }

  close(): void {
    if (this.db.open) this.db.close();
  }

  private acknowledge(user: UserId, upTo: bigint): void {
    const mailbox = this.mailbox(user);
    if (!mailbox) return;
    const until = upTo < mailbox.lastDelivery ? upTo : mailbox.lastDelivery;
    if (until <= mailbox.acknowledged) return;
    this.statements.removeRuns.run(user, until);
    mailbox.acknowledged = until;
    this.changed(mailbox);
  }

  private addRun({ mailbox, from, first, texts }: Run): void {
    const last = first + BigInt(texts.length - 1);
    this.statements.addRun.run(mailbox.id, first, last, from, packTexts(texts), Date.now());
  }

  /** The user's counters: read once, kept, written back at the end of a transaction that changes them. */
  private mailbox(id: UserId): Mailbox | undefined {
    const known = this.mailboxes.get(id);
    if (known) return known;
    const row = this.statements.findUser.get(id);
    if (!row) return undefined;
    const mailbox: Mailbox = {
      id: row.id,
      secretHash: row.secret_hash,
      lastDelivery: row.last_delivery,
      acknowledged: row.acknowledged,
      sentUpTo: row.sent_up_to,
      changed: false,
    };
    this.mailboxes.set(id, mailbox);
    return mailbox;
  }

  /** The last id given out is written once a transaction, however many users it adds. */
  private saveLastUserId(): void {
    if (this.newestUserId !== undefined) this.statements.raiseLastUserId.run(this.newestUserId);
  }

  private changed(mailbox: Mailbox): void {
    if (mailbox.changed) return;
    mailbox.changed = true;
    this.unsaved.push(mailbox);
  }

  private saveChanged(): void {
    for (const mailbox of this.unsaved) {
      const { id, lastDelivery, acknowledged, sentUpTo } = mailbox;
      if (this.mailboxes.get(id) === mailbox) {
        this.statements.saveUser.run(lastDelivery, acknowledged, sentUpTo, id);
      }
      mailbox.changed = false;
    }
    this.unsaved = [];
  }
}
