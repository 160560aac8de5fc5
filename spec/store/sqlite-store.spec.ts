import Database from 'better-sqlite3';
import { expect } from 'chai';
import fc from 'fast-check';
import { spawn } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { StoreWrite } from '../../src/store/chat-store';
import { FsyncPolicy, SqliteStore, StoreOpenError } from '../../src/store/sqlite-store';
import { RunningProgram } from '../support/programs';
import { expectStoreAsModel, storePlan } from '../support/store-model';
import { failure, hash, message, result } from '../support/stores';

const root = join(__dirname, '..', '..');
const MAX_INT64 = 2n ** 63n - 1n;

/** The page size of the database in `file`, as SQLite reads it. */
function pageBytes(file: string): number {
  const db = new Database(file, { readonly: true });
  try {
    return db.pragma('page_size', { simple: true }) as number;
  } finally {
    db.close();
  }
}

/** The StoreOpenError that opening `file` throws. */
function openError(file: string): StoreOpenError {
  try {
    new SqliteStore({ file, fsync: 'normal' }).close();
  } catch (error) {
    expect(error).to.be.instanceOf(StoreOpenError);
    const { message } = error as StoreOpenError;
    expect(message).to.not.include('\n');
    expect(message.startsWith(`cannot use the database ${file}: `)).to.equal(true, message);
    return error as StoreOpenError;
  }
  throw new Error(`${file} opened`);
}

describe('SqliteStore', () => {
  let dir: string;
  let file: string;
  let opened: SqliteStore[];
  let children: RunningProgram[];

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'sqlite-store-'));
    file = join(dir, 'chat.db');
    opened = [];
    children = [];
  });

  afterEach(() => {
    for (const child of children) child.stop();
    for (const store of opened) store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  function open(fsync: FsyncPolicy = 'normal', at = file): SqliteStore {
    const store = new SqliteStore({ file: at, fsync });
    opened.push(store);
    return store;
  }

  /** Closes `store` and opens its file again, as a server that restarts would. */
  function reopen(store: SqliteStore): SqliteStore {
    store.close();
    return open();
  }

  /** A store with users `ids`, added in one turn. */
  async function withUsers(...ids: bigint[]): Promise<SqliteStore> {
    const store = open();
    await Promise.all(ids.map((id) => result(store.addUser(id, hash(Number(id % 200n))))));
    return store;
  }

  describe('users', () => {
    it('finds a user it added: the id a bigint, the secret hash as given, nothing delivered', async () => {
      const store = open();
      const secretHash = Buffer.from(Array.from({ length: 32 }, (_, index) => index * 7));
      await result(store.addUser(3n, secretHash));
      const user = await result(store.findUser(3n));
      expect(user).to.include({ id: 3n, lastDelivery: 0n, acknowledged: 0n });
      expect(typeof user?.id).to.equal('bigint');
      expect(Buffer.isBuffer(user?.secretHash)).to.equal(true);
      expect(user?.secretHash.equals(secretHash)).to.equal(true);
    });

    it('finds no user it never added', async () => {
      const store = await withUsers(1n);
      expect(await result(store.findUser(2n))).to.equal(undefined);
      expect(await result(store.findUser(0n))).to.equal(undefined);
    });

    it('keeps int64 ids exactly, up to 2^63 - 1', async () => {
      const ids = [2n ** 53n + 1n, 2n ** 62n + 3n, MAX_INT64 - 1n, MAX_INT64];
      let store = await withUsers(...ids);
      for (const id of ids) expect((await result(store.findUser(id)))?.id).to.equal(id);
      await result(store.write({ messages: [message(MAX_INT64, 2n ** 53n + 1n, 'big')] }, 10));
      store = reopen(store);
      expect(store.lastUserId).to.equal(MAX_INT64);
      const [delivery] = await result(store.waiting(2n ** 53n + 1n, 0n, 10));
      expect(delivery).to.deep.equal({
        delivery: 1n,
        from: MAX_INT64,
        msg: 'big',
        redelivered: false,
      });
    });

    it('refuses to add an id twice', async () => {
      const store = await withUsers(4n);
      const error = await failure(store.addUser(4n, hash(9)));
      expect(error.message).to.match(/UNIQUE/);
      expect((await result(store.findUser(4n)))?.secretHash.equals(hash(4))).to.equal(true);
    });
  });

  describe('lastUserId', () => {
    it('is 0 for a new database', () => {
      expect(open().lastUserId).to.equal(0n);
    });

    it('is the highest id ever added, read again when the store is reopened', async () => {
      let store = await withUsers(5n, 3n);
      expect(store.lastUserId).to.equal(0n); // read when the store opened
      store = reopen(store);
      expect(store.lastUserId).to.equal(5n);
      await result(store.addUser(4n, hash(4)));
      store = reopen(store);
      expect(store.lastUserId).to.equal(5n);
    });

    it('is never lowered, also once the user with the highest id is released', async () => {
      let store = await withUsers(1n, 7n);
      await result(store.releaseUser(7n));
      expect(await result(store.findUser(7n))).to.equal(undefined);
      store = reopen(store);
      expect(store.lastUserId).to.equal(7n);
      await result(store.releaseUser(1n));
      store = reopen(store);
      expect(store.lastUserId).to.equal(7n);
      expect(await result(store.users())).to.deep.equal([]);
    });
  });

  describe('write', () => {
    it('numbers the deliveries 1, 2, 3, … per recipient, in the order written', async () => {
      const store = await withUsers(1n, 2n, 3n);
      const outcomes = await result(
        store.write(
          {
            messages: [
              message(1n, 2n, 'a'),
              message(1n, 3n, 'b'),
              message(3n, 2n, 'c'),
              message(2n, 2n, 'd'),
            ],
          },
          10,
        ),
      );
      expect(outcomes).to.deep.equal([
        { delivery: 1n },
        { delivery: 1n },
        { delivery: 2n },
        { delivery: 3n },
      ]);
      // Two writes in one turn (one transaction) go on from there, in the order asked.
      const [first, second] = await Promise.all([
        result(store.write({ messages: [message(1n, 2n, 'e')] }, 10)),
        result(store.write({ messages: [message(1n, 2n, 'f'), message(1n, 3n, 'g')] }, 10)),
      ]);
      expect(first).to.deep.equal([{ delivery: 4n }]);
      expect(second).to.deep.equal([{ delivery: 5n }, { delivery: 2n }]);
      const waiting = await result(store.waiting(2n, 0n, 10));
      expect(waiting.map(({ delivery, from, msg }) => [delivery, from, msg])).to.deep.equal([
        [1n, 1n, 'a'],
        [2n, 3n, 'c'],
        [3n, 2n, 'd'],
        [4n, 1n, 'e'],
        [5n, 1n, 'f'],
      ]);
      expect((await result(store.findUser(2n)))?.lastDelivery).to.equal(5n);
    });

    it('refuses a message to an unknown recipient and stores the others of the write', async () => {
      const store = await withUsers(1n, 2n);
      const outcomes = await result(
        store.write(
          { messages: [message(1n, 9n, 'x'), message(1n, 2n, 'y'), message(1n, -1n, 'z')] },
          10,
        ),
      );
      expect(outcomes).to.deep.equal([
        { refused: 'unknown-recipient' },
        { delivery: 1n },
        { refused: 'unknown-recipient' },
      ]);
      expect((await result(store.waiting(2n, 0n, 10))).map(({ msg }) => msg)).to.deep.equal(['y']);
    });

    it('refuses a message to a mailbox with maxPending waiting, until some are acknowledged', async () => {
      const store = await withUsers(1n, 2n);
      const three = { messages: ['a', 'b', 'c'].map((text) => message(1n, 2n, text)) };
      expect(await result(store.write(three, 2))).to.deep.equal([
        { delivery: 1n },
        { delivery: 2n },
        { refused: 'mailbox-full' },
      ]);
      await result(store.write({ messages: [], acknowledge: { user: 2n, upTo: 1n } }, 2));
      // A refused message took no number: the next one is 3.
      expect(await result(store.write(three, 2))).to.deep.equal([
        { delivery: 3n },
        { refused: 'mailbox-full' },
        { refused: 'mailbox-full' },
      ]);
      expect(await result(store.write(three, 0))).to.deep.equal(
        Array(3).fill({ refused: 'mailbox-full' }),
      );
      expect(await result(store.users())).to.deep.equal([
        { id: 1n, waiting: 0n },
        { id: 2n, waiting: 2n },
      ]);
    });

    it('deletes the deliveries an acknowledgement covers, and only those', async () => {
      const store = await withUsers(1n, 2n);
      const five = { messages: [1, 2, 3, 4, 5].map((n) => message(1n, 2n, `m${n}`)) };
      await result(store.write(five, 10));
      await result(store.write({ messages: [], acknowledge: { user: 2n, upTo: 2n } }, 10));
      const after = async () => (await result(store.waiting(2n, 0n, 10))).map(({ msg }) => msg);
      expect(await after()).to.deep.equal(['m3', 'm4', 'm5']);
      expect(await result(store.findUser(2n))).to.include({ lastDelivery: 5n, acknowledged: 2n });
      // A lower acknowledgement changes nothing.
      await result(store.write({ messages: [], acknowledge: { user: 2n, upTo: 1n } }, 10));
      expect(await after()).to.deep.equal(['m3', 'm4', 'm5']);
      // One past the last delivery acknowledges up to the last, not beyond.
      await result(store.write({ messages: [], acknowledge: { user: 2n, upTo: 100n } }, 10));
      expect(await after()).to.deep.equal([]);
      expect(await result(store.findUser(2n))).to.include({ lastDelivery: 5n, acknowledged: 5n });
      const [next] = await result(store.write({ messages: [message(1n, 2n, 'm6')] }, 10));
      expect(next).to.deep.equal({ delivery: 6n });
      expect(await after()).to.deep.equal(['m6']);
    });

    it('stores messages and an acknowledgement of one write together', async () => {
      const store = await withUsers(1n, 2n);
      await result(store.write({ messages: [message(2n, 1n, 'to 1')] }, 10));
      const write: StoreWrite = {
        messages: [message(1n, 2n, 'to 2')],
        acknowledge: { user: 1n, upTo: 1n },
      };
      expect(await result(store.write(write, 10))).to.deep.equal([{ delivery: 1n }]);
      expect(await result(store.waiting(1n, 0n, 10))).to.deep.equal([]);
      expect(await result(store.users())).to.deep.equal([
        { id: 1n, waiting: 0n },
        { id: 2n, waiting: 1n },
      ]);
    });

    it('ignores an acknowledgement for a user it does not know', async () => {
      const store = await withUsers(1n);
      const write = { messages: [], acknowledge: { user: 8n, upTo: 3n } };
      expect(await result(store.write(write, 10))).to.deep.equal([]);
      expect(await result(store.findUser(8n))).to.equal(undefined);
    });
  });

  describe('waiting', () => {
    it('returns pages in order after a number, at most `limit` a page', async () => {
      const store = await withUsers(1n, 2n);
      await result(
        store.write({ messages: [1, 2, 3, 4, 5].map((n) => message(1n, 2n, `m${n}`)) }, 10),
      );
      const page = async (after: bigint, limit: number) =>
        (await result(store.waiting(2n, after, limit))).map(({ delivery }) => delivery);
      expect(await page(0n, 2)).to.deep.equal([1n, 2n]);
      expect(await page(2n, 2)).to.deep.equal([3n, 4n]);
      expect(await page(4n, 2)).to.deep.equal([5n]);
      expect(await page(5n, 2)).to.deep.equal([]);
      expect(await page(1n, 10)).to.deep.equal([2n, 3n, 4n, 5n]);
      expect(await page(0n, 0)).to.deep.equal([]);
    });

    it('returns nothing for a user it does not know, or one with nothing waiting', async () => {
      const store = await withUsers(1n);
      expect(await result(store.waiting(1n, 0n, 10))).to.deep.equal([]);
      expect(await result(store.waiting(6n, 0n, 10))).to.deep.equal([]);
    });

    it('says redelivered for what was sent at once or read before, also after a restart', async () => {
      let store = await withUsers(1n, 2n);
      await result(
        store.write(
          { messages: [message(1n, 2n, 'sent at once', true), message(1n, 2n, 'kept')] },
          10,
        ),
      );
      const flags = async (after = 0n, limit = 10) =>
        (await result(store.waiting(2n, after, limit))).map(({ msg, redelivered }) => [
          msg,
          redelivered,
        ]);
      expect(await flags()).to.deep.equal([
        ['sent at once', true],
        ['kept', false],
      ]);
      // The read above sent 'kept': read again, it is a redelivery too.
      expect(await flags()).to.deep.equal([
        ['sent at once', true],
        ['kept', true],
      ]);
      await result(store.write({ messages: [message(1n, 2n, 'third')] }, 10));
      store = reopen(store);
      expect(await flags(0n, 2)).to.deep.equal([
        ['sent at once', true],
        ['kept', true],
      ]);
      expect(await flags(2n)).to.deep.equal([['third', false]]);
      expect(await flags(2n)).to.deep.equal([['third', true]]);
    });

    it('sees the writes of the same turn', async () => {
      const store = await withUsers(1n, 2n);
      const [, waiting] = await Promise.all([
        result(store.write({ messages: [message(1n, 2n, 'now')] }, 10)),
        result(store.waiting(2n, 0n, 10)),
      ]);
      expect(waiting).to.deep.equal([{ delivery: 1n, from: 1n, msg: 'now', redelivered: false }]);
    });
  });

  describe('releaseUser', () => {
    it('forgets a user nothing waits for', async () => {
      let store = await withUsers(1n, 2n);
      await result(store.releaseUser(2n));
      expect(await result(store.findUser(2n))).to.equal(undefined);
      expect(await result(store.write({ messages: [message(1n, 2n, 'x')] }, 10))).to.deep.equal([
        { refused: 'unknown-recipient' },
      ]);
      store = reopen(store);
      expect(await result(store.findUser(2n))).to.equal(undefined);
      expect(await result(store.users())).to.deep.equal([{ id: 1n, waiting: 0n }]);
    });

    it('keeps a user deliveries wait for, and forgets it once they are acknowledged', async () => {
      const store = await withUsers(1n, 2n);
      await result(store.write({ messages: [message(1n, 2n, 'a'), message(1n, 2n, 'b')] }, 10));
      await result(store.releaseUser(2n));
      expect(await result(store.findUser(2n))).to.include({ lastDelivery: 2n, acknowledged: 0n });
      await result(store.write({ messages: [], acknowledge: { user: 2n, upTo: 1n } }, 10));
      await result(store.releaseUser(2n));
      expect(await result(store.findUser(2n))).to.include({ id: 2n, acknowledged: 1n });
      await result(store.write({ messages: [], acknowledge: { user: 2n, upTo: 2n } }, 10));
      await result(store.releaseUser(2n));
      expect(await result(store.findUser(2n))).to.equal(undefined);
    });

    it('does nothing for a user it does not know', async () => {
      const store = await withUsers(1n);
      await result(store.releaseUser(5n));
      expect(await result(store.users())).to.deep.equal([{ id: 1n, waiting: 0n }]);
    });
  });

  describe('users', () => {
    it('lists every user by id with how many deliveries wait for it', async () => {
      const store = await withUsers(3n, 1n, 2n);
      await result(
        store.write(
          { messages: [message(1n, 3n, 'a'), message(1n, 3n, 'b'), message(3n, 1n, 'c')] },
          10,
        ),
      );
      expect(await result(store.users())).to.deep.equal([
        { id: 1n, waiting: 1n },
        { id: 2n, waiting: 0n },
        { id: 3n, waiting: 2n },
      ]);
    });

    it('counts the writes and acknowledgements of the same turn', async () => {
      const store = await withUsers(1n, 2n);
      await result(store.write({ messages: [message(1n, 2n, 'a'), message(1n, 2n, 'b')] }, 10));
      const [, users] = await Promise.all([
        result(
          store.write(
            { messages: [message(2n, 1n, 'c')], acknowledge: { user: 2n, upTo: 1n } },
            10,
          ),
        ),
        result(store.users()),
      ]);
      expect(users).to.deep.equal([
        { id: 1n, waiting: 1n },
        { id: 2n, waiting: 1n },
      ]);
      // What users() saw within the turn is also what was committed.
      expect(await result(store.users())).to.deep.equal(users);
    });

    it('is empty for a new database', async () => {
      expect(await result(open().users())).to.deep.equal([]);
    });
  });

  describe('against a model', () => {
    it('answers every sequence of writes, reads and releases as the model does, a turn at a time or many', async () => {
      // The calls of one turn are one transaction.
      await fc.assert(
        fc.asyncProperty(storePlan, async (plan) => {
          const store = new SqliteStore({ file: ':memory:', fsync: 'normal' });
          try {
            await expectStoreAsModel(store, plan, { storedOutcome: (delivery) => ({ delivery }) });
          } finally {
            store.close();
          }
        }),
        { numRuns: 150 },
      );
    });
  });

  describe('group commit', () => {
    it('commits the calls of one turn together: one that fails errors and undoes them all', async () => {
      const store = await withUsers(1n);
      const settled = await Promise.allSettled([
        result(store.addUser(7n, hash(7))),
        result(store.write({ messages: [message(7n, 1n, 'lost')] }, 10)),
        result(store.addUser(1n, hash(1))),
      ]);
      expect(settled.map(({ status }) => status)).to.deep.equal([
        'rejected',
        'rejected',
        'rejected',
      ]);
      expect(await result(store.findUser(7n))).to.equal(undefined);
      expect(await result(store.waiting(1n, 0n, 10))).to.deep.equal([]);
      expect(await result(store.findUser(1n))).to.include({ lastDelivery: 0n });
      // The next turn is a transaction of its own.
      await result(store.addUser(7n, hash(7)));
      expect(await result(store.users())).to.have.length(2);
    });

    it('errors a call that was not committed before the store closed, instead of never answering', async () => {
      const store = open();
      const pending = failure(store.addUser(1n, hash(1)));
      store.close();
      expect((await pending).message).to.match(/not open/);
      store.close();
    });
  });

  describe('durability', () => {
    it('keeps everything written across close and reopen', async () => {
      let store = await withUsers(1n, 2n, 3n);
      await result(
        store.write(
          { messages: [message(1n, 2n, 'a', true), message(1n, 2n, 'b'), message(2n, 3n, 'c')] },
          10,
        ),
      );
      await result(store.write({ messages: [], acknowledge: { user: 2n, upTo: 1n } }, 10));
      await result(store.releaseUser(1n));
      store = reopen(store);
      expect(store.lastUserId).to.equal(3n);
      expect(await result(store.users())).to.deep.equal([
        { id: 2n, waiting: 1n },
        { id: 3n, waiting: 1n },
      ]);
      expect(await result(store.findUser(2n))).to.include({ lastDelivery: 2n, acknowledged: 1n });
      expect((await result(store.findUser(3n)))?.secretHash.equals(hash(3))).to.equal(true);
      expect(await result(store.waiting(2n, 0n, 10))).to.deep.equal([
        { delivery: 2n, from: 1n, msg: 'b', redelivered: false },
      ]);
      expect(await result(store.waiting(3n, 0n, 10))).to.deep.equal([
        { delivery: 1n, from: 2n, msg: 'c', redelivered: false },
      ]);
      expect(await result(store.write({ messages: [message(3n, 2n, 'd')] }, 10))).to.deep.equal([
        { delivery: 3n },
      ]);
    });

    /**
     * A child process that opens `file`, adds user 1 and writes it a message in one turn, prints
     * `written <delivery>` once the write's observable has emitted, and then stays until killed.
     */
    function writer(fsync: FsyncPolicy): RunningProgram {
      const script = `
        const { SqliteStore } = require(${JSON.stringify(join(root, 'src/store/sqlite-store'))});
        const store = new SqliteStore({ file: process.env.STORE_FILE, fsync: process.env.FSYNC });
        store.addUser(1n, Buffer.alloc(32, 1)).subscribe();
        const write = { messages: [{ from: 2n, recipient: 1n, msg: 'kept', sentNow: false }] };
        store.write(write, 10).subscribe(([outcome]) => {
          process.stdout.write('written ' + outcome.delivery + '\\n');
          setInterval(() => undefined, 60000);
        });
      `;
      const child = spawn(
        process.execPath,
        ['--require', 'ts-node/register/transpile-only', '--eval', script],
        { cwd: root, env: { ...process.env, STORE_FILE: file, FSYNC: fsync }, stdio: 'pipe' },
      );
      const running = new RunningProgram(child);
      children.push(running);
      return running;
    }

    for (const fsync of ['normal', 'always'] as const) {
      it(`keeps a write once it is reported, when the process is killed right after (fsync ${fsync})`, async () => {
        const child = writer(fsync);
        expect(await child.line('stdout', /^written /)).to.equal('written 1');
        child.child.kill('SIGKILL');
        expect(await child.exited).to.deep.equal({ code: null, signal: 'SIGKILL' });
        const store = open();
        expect(store.lastUserId).to.equal(1n);
        expect(await result(store.findUser(1n))).to.include({ lastDelivery: 1n, acknowledged: 0n });
        expect(await result(store.waiting(1n, 0n, 10))).to.deep.equal([
          { delivery: 1n, from: 2n, msg: 'kept', redelivered: false },
        ]);
      });
    }

    it('refuses the database to a second process while another holds it', async () => {
      const child = writer('normal');
      await child.line('stdout', /^written /);
      expect(openError(file).message).to.equal(
        `cannot use the database ${file}: another server is using it`,
      );
      child.stop();
      await child.exited;
      expect(open().lastUserId).to.equal(1n);
    });
  });

  describe('opening', () => {
    it('refuses a second store on a file that one has open, within a second, saying another server uses it', () => {
      open();
      const started = Date.now();
      const error = openError(file);
      expect(error.name).to.equal('StoreOpenError');
      expect(error.message).to.equal(`cannot use the database ${file}: another server is using it`);
      // Not after better-sqlite3's busy timeout of 5 s: the lock is waited for a second.
      expect(Date.now() - started).to.be.below(2000);
    });

    it('opens the file again once the store that had it is closed', async () => {
      const first = await withUsers(1n);
      first.close();
      const second = open();
      expect(second.lastUserId).to.equal(1n);
    });

    it('refuses a file of text that is not a database, and leaves it as it was', () => {
      const text = 'these are my notes, not a database\n'.repeat(20);
      writeFileSync(file, text);
      expect(openError(file).message).to.equal(
        `cannot use the database ${file}: file is not a database`,
      );
      expect(readFileSync(file, 'utf8')).to.equal(text);
    });

    it('refuses a file of bytes that is not a database, and leaves it as it was', () => {
      const bytes = Buffer.from(
        Array.from({ length: 8192 }, (_, index) => (index * 131 + 7) % 256),
      );
      writeFileSync(file, bytes);
      expect(openError(file).message).to.equal(
        `cannot use the database ${file}: file is not a database`,
      );
      expect(readFileSync(file).equals(bytes)).to.equal(true);
    });

    it('refuses a read-only file, even to root', async () => {
      (await withUsers(1n)).close();
      chmodSync(file, 0o444);
      expect(openError(file).message).to.equal(
        `cannot use the database ${file}: the file is read-only`,
      );
    });

    it('refuses a directory', () => {
      const directory = join(dir, 'a-directory');
      mkdirSync(directory);
      expect(openError(directory).message).to.equal(
        `cannot use the database ${directory}: it is a directory`,
      );
    });

    it('refuses a file in a directory that does not exist, in one line', () => {
      const missing = join(dir, 'no-such-directory', 'chat.db');
      expect(openError(missing).message).to.match(/directory does not exist/);
    });

    it('makes a new database with pages of 16 KiB', () => {
      open().close();
      expect(pageBytes(file)).to.equal(16 * 1024);
    });

    it('keeps the 4 KiB pages of a database made before, and works with it across a reopen', async () => {
      const before = new Database(file);
      before.pragma('page_size = 4096');
      before.pragma('journal_mode = WAL');
      before.exec('CREATE TABLE notes (text TEXT)');
      before.close();
      let store = await withUsers(1n, 2n);
      const texts = Array.from({ length: 200 }, (_, index) => `message ${index} `.repeat(20));
      await result(
        store.write({ messages: texts.map((text) => message(1n, 2n, text)) }, texts.length),
      );
      store = reopen(store);
      const waiting = await result(store.waiting(2n, 0n, texts.length));
      expect(waiting.map(({ msg }) => msg)).to.deep.equal(texts);
      store.close();
      expect(pageBytes(file)).to.equal(4096);
    });

    it('works in memory, each store on its own, keeping nothing once closed', async () => {
      const memory = open('normal', ':memory:');
      const other = open('always', ':memory:');
      expect(memory.lastUserId).to.equal(0n);
      await result(memory.addUser(1n, hash(1)));
      await result(memory.write({ messages: [message(1n, 1n, 'self')] }, 10));
      expect(await result(memory.users())).to.deep.equal([{ id: 1n, waiting: 1n }]);
      expect(await result(other.users())).to.deep.equal([]);
      memory.close();
      expect(open('normal', ':memory:').lastUserId).to.equal(0n);
    });
  });
});
