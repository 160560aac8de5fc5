import { expect } from 'chai';
import fc from 'fast-check';
import { firstValueFrom } from 'rxjs';
import { BusMessage } from '../../src/cluster/bus-messages';
import { NodeStatus } from '../../src/cluster/cluster-bus';
import { JOIN, LEAVE } from '../../src/cluster/presence-scripts';
import { RedisBus } from '../../src/cluster/redis-bus';
import { RedisLink } from '../../src/cluster/redis-connection';
import { StoreWrite } from '../../src/store/chat-store';
import { RedisStore } from '../../src/store/redis-store';
import { RedisProcess } from '../support/redis-server';
import { expectStoreAsModel, storePlan } from '../support/store-model';
import { failure, hash, message, result } from '../support/stores';

const MAX_INT64 = 2n ** 63n - 1n;
/** Delivery numbers are Lua numbers inside the scripts: exact up to 2^53. */
const MAX_DELIVERY = 2n ** 53n;

/** A node's status as its heartbeat would say it. */
function status(instance: string): NodeStatus {
  return {
    instance,
    address: '127.0.0.1:0',
    startedAt: 0,
    heardAt: 0,
    framesIn: 0,
    framesOut: 0,
    stored: 0,
    delivered: 0,
    acknowledged: 0,
    refused: 0,
  };
}

/** An integer reply: text, since the link asks for integers as strings (stringNumbers). */
function integer(reply: unknown): number {
  return Number(reply);
}

/** A RedisLink to `url` whose log lines are kept in `log`, not printed. */
async function linkTo(url: string, log: string[] = []): Promise<RedisLink> {
  return RedisLink.open(url, (line) => log.push(line));
}

describe('RedisStore', function () {
  this.timeout(20000);

  let redis: RedisProcess;
  let link: RedisLink;
  let store: RedisStore;

  before(async () => {
    redis = await RedisProcess.start();
    link = await linkTo(redis.url);
  });

  after(async () => {
    await link.close();
    await redis.remove();
  });

  beforeEach(async () => {
    await link.commands.flushall();
    store = await RedisStore.open(link.commands, 'node-a');
  });

  /** Users `ids`, added in one turn. */
  async function withUsers(...ids: bigint[]): Promise<RedisStore> {
    await Promise.all(ids.map((id) => result(store.addUser(id, hash(Number(id % 200n))))));
    return store;
  }

  /** The store on this Redis again, as a node that restarts would open it. */
  function reopen(): Promise<RedisStore> {
    return RedisStore.open(link.commands, 'node-a');
  }

  describe('users', () => {
    it('finds a user it added: the id a bigint, the secret hash byte for byte, nothing delivered', async () => {
      // Bytes that are no UTF-8 (0x80, 0xc0, 0xff) and a NUL must come back as they went.
      const secretHash = Buffer.from(Array.from({ length: 32 }, (_, index) => (index * 37) % 256));
      secretHash[0] = 0xff;
      secretHash[1] = 0x00;
      secretHash[2] = 0xc0;
      await result(store.addUser(3n, secretHash));
      const user = await result(store.findUser(3n));
      expect(user).to.include({ id: 3n, lastDelivery: 0n, acknowledged: 0n });
      expect(typeof user?.id).to.equal('bigint');
      expect(Buffer.isBuffer(user?.secretHash)).to.equal(true);
      expect(user?.secretHash.equals(secretHash)).to.equal(true);
    });

    it('counts the deliveries of a user it finds: the last one, and acknowledged up to', async () => {
      await withUsers(1n, 2n);
      await result(store.write({ messages: ['a', 'b', 'c'].map((t) => message(1n, 2n, t)) }, 10));
      await result(store.write({ messages: [], acknowledge: { user: 2n, upTo: 2n } }, 10));
      expect(await result(store.findUser(2n))).to.include({
        id: 2n,
        lastDelivery: 3n,
        acknowledged: 2n,
      });
      expect(await result(store.findUser(1n))).to.include({ lastDelivery: 0n, acknowledged: 0n });
    });

    it('finds no user it never added', async () => {
      await withUsers(1n);
      expect(await result(store.findUser(2n))).to.equal(undefined);
      expect(await result(store.findUser(0n))).to.equal(undefined);
      expect(await result(store.findUser(-1n))).to.equal(undefined);
    });

    it('keeps int64 ids exactly, up to 2^63 - 1', async () => {
      const ids = [2n ** 53n + 1n, 2n ** 62n + 3n, MAX_INT64 - 1n, MAX_INT64];
      await withUsers(...ids);
      for (const id of ids) expect((await result(store.findUser(id)))?.id).to.equal(id);
      await result(store.write({ messages: [message(MAX_INT64, 2n ** 53n + 1n, 'big')] }, 10));
      store = await reopen();
      const [delivery] = await result(store.waiting(2n ** 53n + 1n, 0n, 10));
      expect(delivery).to.deep.equal({
        delivery: 1n,
        from: MAX_INT64,
        msg: 'big',
        redelivered: false,
      });
      expect((await result(store.users())).map(({ id }) => id)).to.deep.equal(ids);
    });

    it('refuses to add an id twice, keeping the user it has', async () => {
      await withUsers(1n, 4n);
      await result(store.write({ messages: [message(1n, 4n, 'kept')] }, 10));
      const error = await failure(store.addUser(4n, hash(9)));
      expect(error).to.be.instanceOf(Error);
      const user = await result(store.findUser(4n));
      expect(user?.secretHash.equals(hash(4))).to.equal(true);
      expect(user).to.include({ lastDelivery: 1n, acknowledged: 0n });
    });
  });

  describe('releaseUser', () => {
    it('forgets a user nothing waits for, also when the store is opened again', async () => {
      await withUsers(1n, 2n);
      await result(store.releaseUser(2n));
      expect(await result(store.findUser(2n))).to.equal(undefined);
      expect(await result(store.write({ messages: [message(1n, 2n, 'x')] }, 10))).to.deep.equal([
        { refused: 'unknown-recipient' },
      ]);
      store = await reopen();
      expect(await result(store.findUser(2n))).to.equal(undefined);
      expect(await result(store.users())).to.deep.equal([{ id: 1n, waiting: 0n }]);
    });

    it('keeps a user deliveries wait for, and forgets it once they are acknowledged', async () => {
      await withUsers(1n, 2n);
      await result(store.write({ messages: [message(1n, 2n, 'a'), message(1n, 2n, 'b')] }, 10));
      await result(store.releaseUser(2n));
      expect(await result(store.findUser(2n))).to.include({ lastDelivery: 2n, acknowledged: 0n });
      await result(store.write({ messages: [], acknowledge: { user: 2n, upTo: 1n } }, 10));
      await result(store.releaseUser(2n));
      expect(await result(store.findUser(2n))).to.include({ id: 2n, acknowledged: 1n });
      expect((await result(store.waiting(2n, 0n, 10))).map(({ msg }) => msg)).to.deep.equal(['b']);
      await result(store.write({ messages: [], acknowledge: { user: 2n, upTo: 2n } }, 10));
      await result(store.releaseUser(2n));
      expect(await result(store.findUser(2n))).to.equal(undefined);
      expect(await result(store.users())).to.deep.equal([{ id: 1n, waiting: 0n }]);
      // Nothing of it is left behind in Redis.
      expect(integer(await link.commands.exists('chat:user:2', 'chat:mailbox:2'))).to.equal(0);
    });

    it('does nothing for a user it does not know', async () => {
      await withUsers(1n);
      await result(store.releaseUser(5n));
      expect(await result(store.users())).to.deep.equal([{ id: 1n, waiting: 0n }]);
    });
  });

  describe('lastUserId and reserveIds', () => {
    it('is 0 on a new Redis', () => {
      expect(store.lastUserId).to.equal(0n);
    });

    it('reserves disjoint blocks, in one turn or from two nodes at once, and says the last id when opened again', async () => {
      const other = await linkTo(redis.url);
      try {
        const elsewhere = await RedisStore.open(other.commands, 'node-b');
        const blocks = await Promise.all([
          result(store.reserveIds(3)),
          result(store.reserveIds(5)),
          result(elsewhere.reserveIds(4)),
          result(elsewhere.reserveIds(1)),
          result(store.reserveIds(256)),
        ]);
        for (const [block, size] of blocks.map(
          (block, i) => [block, [3, 5, 4, 1, 256][i]] as const,
        ))
          expect(block.last - block.first + 1n).to.equal(BigInt(size ?? 0));
        const ids = blocks.flatMap(({ first, last }) => {
          const each: bigint[] = [];
          for (let id = first; id <= last; id++) each.push(id);
          return each;
        });
        // Every id from 1 to 269 once: no two blocks share one, none is skipped.
        expect(ids.sort((a, b) => (a < b ? -1 : 1))).to.deep.equal(
          Array.from({ length: 269 }, (_, index) => BigInt(index + 1)),
        );
        // One connection's calls are served in the order made.
        const [a, b, c, d, e] = blocks.map(({ first }) => first);
        expect((a ?? 0n) < (b ?? 0n) && (b ?? 0n) < (e ?? 0n)).to.equal(true);
        expect((c ?? 0n) < (d ?? 0n)).to.equal(true);
        expect((await reopen()).lastUserId).to.equal(269n);
      } finally {
        await other.close();
      }
    });

    it('never gives out an id again, also after the store is opened again', async () => {
      const first = await result(store.reserveIds(10));
      store = await reopen();
      expect(store.lastUserId).to.equal(first.last);
      const second = await result(store.reserveIds(10));
      expect(second.first).to.equal(first.last + 1n);
      store = await reopen();
      expect(store.lastUserId).to.equal(second.last);
    });

    it('is exact up to 2^63 - 1, and fails rather than going past it', async () => {
      await link.commands.set('chat:last-user-id', (MAX_INT64 - 10n).toString());
      store = await reopen();
      expect(store.lastUserId).to.equal(MAX_INT64 - 10n);
      expect(await result(store.reserveIds(10))).to.deep.equal({
        first: MAX_INT64 - 9n,
        last: MAX_INT64,
      });
      await failure(store.reserveIds(1));
      expect((await reopen()).lastUserId).to.equal(MAX_INT64);
    });
  });

  describe('write', () => {
    it('numbers the deliveries 1, 2, 3, … per recipient, in the order written', async () => {
      await withUsers(1n, 2n, 3n);
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
        { delivery: 1n, online: false },
        { delivery: 1n, online: false },
        { delivery: 2n, online: false },
        { delivery: 3n, online: false },
      ]);
      // Two writes in one turn go on from there, in the order asked.
      const [first, second] = await Promise.all([
        result(store.write({ messages: [message(1n, 2n, 'e')] }, 10)),
        result(store.write({ messages: [message(1n, 2n, 'f'), message(1n, 3n, 'g')] }, 10)),
      ]);
      expect(first).to.deep.equal([{ delivery: 4n, online: false }]);
      expect(second).to.deep.equal([
        { delivery: 5n, online: false },
        { delivery: 2n, online: false },
      ]);
      const waiting = await result(store.waiting(2n, 0n, 10));
      expect(waiting.map(({ delivery, from, msg }) => [delivery, from, msg])).to.deep.equal([
        [1n, 1n, 'a'],
        [2n, 3n, 'c'],
        [3n, 2n, 'd'],
        [4n, 1n, 'e'],
        [5n, 1n, 'f'],
      ]);
      expect((await result(store.findUser(2n)))?.lastDelivery).to.equal(5n);
      expect((await result(store.findUser(3n)))?.lastDelivery).to.equal(2n);
    });

    it('refuses a message to an unknown recipient and stores the others of the write', async () => {
      await withUsers(1n, 2n);
      const outcomes = await result(
        store.write(
          { messages: [message(1n, 9n, 'x'), message(1n, 2n, 'y'), message(1n, -1n, 'z')] },
          10,
        ),
      );
      expect(outcomes).to.deep.equal([
        { refused: 'unknown-recipient' },
        { delivery: 1n, online: false },
        { refused: 'unknown-recipient' },
      ]);
      expect((await result(store.waiting(2n, 0n, 10))).map(({ msg }) => msg)).to.deep.equal(['y']);
      expect(await result(store.findUser(9n))).to.equal(undefined);
    });

    it('refuses a message to a mailbox with maxPending waiting, until some are acknowledged', async () => {
      await withUsers(1n, 2n);
      const three = { messages: ['a', 'b', 'c'].map((text) => message(1n, 2n, text)) };
      expect(await result(store.write(three, 2))).to.deep.equal([
        { delivery: 1n, online: false },
        { delivery: 2n, online: false },
        { refused: 'mailbox-full' },
      ]);
      await result(store.write({ messages: [], acknowledge: { user: 2n, upTo: 1n } }, 2));
      // A refused message took no number: the next one is 3.
      expect(await result(store.write(three, 2))).to.deep.equal([
        { delivery: 3n, online: false },
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
      expect((await result(store.waiting(2n, 0n, 10))).map(({ msg }) => msg)).to.deep.equal([
        'b',
        'a',
      ]);
    });

    it('deletes the deliveries an acknowledgement covers, and only those', async () => {
      await withUsers(1n, 2n);
      const five = { messages: [1, 2, 3, 4, 5].map((n) => message(1n, 2n, `m${n}`)) };
      await result(store.write(five, 10));
      await result(store.write({ messages: [], acknowledge: { user: 2n, upTo: 2n } }, 10));
      const after = async () => (await result(store.waiting(2n, 0n, 10))).map(({ msg }) => msg);
      expect(await after()).to.deep.equal(['m3', 'm4', 'm5']);
      expect(await result(store.findUser(2n))).to.include({ lastDelivery: 5n, acknowledged: 2n });
      // The five were one run, one stream entry: kept whole while some of it waits.
      expect(integer(await link.commands.xlen('chat:mailbox:2'))).to.equal(1);
      // A lower acknowledgement changes nothing.
      await result(store.write({ messages: [], acknowledge: { user: 2n, upTo: 1n } }, 10));
      expect(await after()).to.deep.equal(['m3', 'm4', 'm5']);
      expect(await result(store.findUser(2n))).to.include({ lastDelivery: 5n, acknowledged: 2n });
      // Acknowledged to its end, the run is gone.
      await result(store.write({ messages: [], acknowledge: { user: 2n, upTo: 5n } }, 10));
      expect(await after()).to.deep.equal([]);
      expect(integer(await link.commands.xlen('chat:mailbox:2'))).to.equal(0);
    });

    it('acknowledges up to the last delivery, not beyond, when asked for more: later messages still wait', async () => {
      await withUsers(1n, 2n);
      const five = { messages: [1, 2, 3, 4, 5].map((n) => message(1n, 2n, `m${n}`)) };
      await result(store.write(five, 10));
      const after = async () => (await result(store.waiting(2n, 0n, 10))).map(({ msg }) => msg);
      await result(store.write({ messages: [], acknowledge: { user: 2n, upTo: 100n } }, 10));
      expect(await after()).to.deep.equal([]);
      expect(await result(store.findUser(2n))).to.include({ lastDelivery: 5n, acknowledged: 5n });
      expect(await result(store.users())).to.deep.equal([
        { id: 1n, waiting: 0n },
        { id: 2n, waiting: 0n },
      ]);
      const [next] = await result(store.write({ messages: [message(1n, 2n, 'm6')] }, 10));
      expect(next).to.deep.equal({ delivery: 6n, online: false });
      expect(await after()).to.deep.equal(['m6']);
    });

    it('stores messages and an acknowledgement of one write together', async () => {
      await withUsers(1n, 2n);
      await result(store.write({ messages: [message(2n, 1n, 'to 1')] }, 10));
      const write: StoreWrite = {
        messages: [message(1n, 2n, 'to 2')],
        acknowledge: { user: 1n, upTo: 1n },
      };
      expect(await result(store.write(write, 10))).to.deep.equal([{ delivery: 1n, online: false }]);
      expect(await result(store.waiting(1n, 0n, 10))).to.deep.equal([]);
      expect(await result(store.users())).to.deep.equal([
        { id: 1n, waiting: 0n },
        { id: 2n, waiting: 1n },
      ]);
    });

    it('ignores an acknowledgement for a user it does not know', async () => {
      await withUsers(1n);
      const write = { messages: [], acknowledge: { user: 8n, upTo: 3n } };
      expect(await result(store.write(write, 10))).to.deep.equal([]);
      expect(await result(store.findUser(8n))).to.equal(undefined);
      expect(await result(store.users())).to.deep.equal([{ id: 1n, waiting: 0n }]);
    });

    it('keeps texts exactly: astral UTF-8, NUL, quotes, empty, 64 KiB', async () => {
      await withUsers(1n, 2n);
      const texts = [
        '😀 𝄞 — naïve 中文 \u{10ffff}',
        'nul \u0000 inside, \r\n "quoted" \\ / \u2028',
        '',
        '12345',
        'x'.repeat(65536),
      ];
      await result(store.write({ messages: texts.map((text) => message(1n, 2n, text)) }, 10));
      expect((await result(store.waiting(2n, 0n, 10))).map(({ msg }) => msg)).to.deep.equal(texts);
    });

    it('refuses to count a mailbox past 2^53, where its numbers would stop being exact', async () => {
      await withUsers(1n, 2n);
      const below = (MAX_DELIVERY - 1n).toString();
      await link.commands.hset('chat:user:2', 'last', below, 'acked', below, 'sent', below);
      expect(await result(store.write({ messages: [message(1n, 2n, 'top')] }, 10))).to.deep.equal([
        { delivery: MAX_DELIVERY, online: false },
      ]);
      expect(await result(store.waiting(2n, 0n, 10))).to.deep.equal([
        { delivery: MAX_DELIVERY, from: 1n, msg: 'top', redelivered: false },
      ]);
      await result(
        store.write({ messages: [], acknowledge: { user: 2n, upTo: MAX_DELIVERY } }, 10),
      );
      expect(await result(store.write({ messages: [message(1n, 2n, 'over')] }, 10))).to.deep.equal([
        { refused: 'mailbox-full' },
      ]);
      expect(await result(store.findUser(2n))).to.include({
        lastDelivery: MAX_DELIVERY,
        acknowledged: MAX_DELIVERY,
      });
    });
  });

  describe('waiting', () => {
    it('returns pages in order after a number, at most `limit` a page', async () => {
      await withUsers(1n, 2n);
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
    });

    it('returns an empty page for a limit of 0', async () => {
      await withUsers(1n, 2n);
      await result(store.write({ messages: [message(1n, 2n, 'm1')] }, 10));
      expect(await result(store.waiting(2n, 0n, 0))).to.deep.equal([]);
      // Nothing was read: the delivery is still new.
      expect(await result(store.waiting(2n, 0n, 10))).to.deep.equal([
        { delivery: 1n, from: 1n, msg: 'm1', redelivered: false },
      ]);
    });

    it('returns nothing acknowledged, whatever number it is asked after', async () => {
      await withUsers(1n, 2n);
      await result(store.write({ messages: [1, 2, 3].map((n) => message(1n, 2n, `m${n}`)) }, 10));
      await result(store.write({ messages: [], acknowledge: { user: 2n, upTo: 2n } }, 10));
      expect(
        (await result(store.waiting(2n, 0n, 10))).map(({ delivery }) => delivery),
      ).to.deep.equal([3n]);
      expect(
        (await result(store.waiting(2n, 1n, 1))).map(({ delivery }) => delivery),
      ).to.deep.equal([3n]);
    });

    it('returns nothing for a user it does not know, or one with nothing waiting', async () => {
      await withUsers(1n);
      expect(await result(store.waiting(1n, 0n, 10))).to.deep.equal([]);
      expect(await result(store.waiting(6n, 0n, 10))).to.deep.equal([]);
    });

    it('says redelivered for what was sent at once or read before, also when opened again', async () => {
      await withUsers(1n, 2n);
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
      store = await reopen();
      expect(await flags(0n, 2)).to.deep.equal([
        ['sent at once', true],
        ['kept', true],
      ]);
      expect(await flags(2n)).to.deep.equal([['third', false]]);
      expect(await flags(2n)).to.deep.equal([['third', true]]);
    });

    it('counts as sent only what a page returned, not what lies beyond it', async () => {
      await withUsers(1n, 2n);
      await result(store.write({ messages: [1, 2, 3].map((n) => message(1n, 2n, `m${n}`)) }, 10));
      expect(
        (await result(store.waiting(2n, 0n, 1))).map(({ redelivered }) => redelivered),
      ).to.deep.equal([false]);
      expect(
        (await result(store.waiting(2n, 0n, 10))).map(({ delivery, redelivered }) => [
          delivery,
          redelivered,
        ]),
      ).to.deep.equal([
        [1n, true],
        [2n, false],
        [3n, false],
      ]);
    });

    it('sees the writes of the same turn', async () => {
      await withUsers(1n, 2n);
      const [, waiting] = await Promise.all([
        result(store.write({ messages: [message(1n, 2n, 'now')] }, 10)),
        result(store.waiting(2n, 0n, 10)),
      ]);
      expect(waiting).to.deep.equal([{ delivery: 1n, from: 1n, msg: 'now', redelivered: false }]);
    });
  });

  describe('users', () => {
    it('lists every user by id, as numbers, with how many deliveries wait for it', async () => {
      await withUsers(10n, 3n, 9n, 1n, MAX_INT64, 100n);
      await result(
        store.write(
          { messages: [message(1n, 3n, 'a'), message(1n, 3n, 'b'), message(3n, 1n, 'c')] },
          10,
        ),
      );
      expect(await result(store.users())).to.deep.equal([
        { id: 1n, waiting: 1n },
        { id: 3n, waiting: 2n },
        { id: 9n, waiting: 0n },
        { id: 10n, waiting: 0n },
        { id: 100n, waiting: 0n },
        { id: MAX_INT64, waiting: 0n },
      ]);
    });

    it('counts the writes and acknowledgements of the same turn', async () => {
      await withUsers(1n, 2n);
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
      expect(await result(store.users())).to.deep.equal(users);
    });

    it('is empty on a new Redis', async () => {
      expect(await result(store.users())).to.deep.equal([]);
    });
  });

  describe('write, in a cluster', () => {
    const MARK = 'test:mark';
    let marks = 0;
    let heard: [channel: string, payload: string][];
    let onMessage: (channel: string, payload: string) => void;
    let wake: (() => void) | undefined;

    beforeEach(async () => {
      heard = [];
      onMessage = (channel, payload) => {
        heard.push([channel, payload]);
        wake?.();
      };
      link.subscriber.on('message', onMessage);
      await link.subscriber.subscribe(
        'chat:to-node:node-a',
        'chat:to-node:node-b',
        'chat:to-node:node-c',
        'chat:signals',
        MARK,
      );
    });

    afterEach(async () => {
      link.subscriber.off('message', onMessage);
      await link.subscriber.unsubscribe();
    });

    /**
     * What was published on the channels until now, by channel, parsed: a mark published now
     * arrives after whatever the writes before it published, so nothing is still on its way.
     */
    async function publishedUntilNow(): Promise<[string, unknown][]> {
      const mark = String(++marks);
      const arrived = new Promise<void>((resolve) => {
        wake = () => {
          if (heard.some(([channel, payload]) => channel === MARK && payload === mark)) resolve();
        };
      });
      await link.commands.publish(MARK, mark);
      await arrived;
      wake = undefined;
      return heard
        .filter(([channel]) => channel !== MARK)
        .map(([channel, payload]) => [channel, JSON.parse(payload) as unknown]);
    }

    /** User `id` is connected to `node`, a live node whose key does not expire in this test. */
    async function present(id: bigint, node: string): Promise<void> {
      await JOIN.run(link.commands, [node, id.toString()]);
      await link.commands.set(`chat:node:${node}`, JSON.stringify(status(node)));
    }

    it('passes a delivery for a user on another live node on to that node, as JSON runs, and says it is online', async () => {
      await withUsers(1n, 2n, MAX_INT64);
      await present(2n, 'node-b');
      await present(MAX_INT64, 'node-b');
      const text = '😀 𝄞 "hi" \\ / \u0000 \u2028';
      const outcomes = await result(
        store.write(
          {
            messages: [
              message(MAX_INT64, 2n, text),
              message(1n, 2n, 'second'),
              message(2n, MAX_INT64, ''),
              message(1n, 2n, 'third'),
            ],
          },
          10,
        ),
      );
      expect(outcomes).to.deep.equal([
        { delivery: 1n, online: true },
        { delivery: 2n, online: true },
        { delivery: 1n, online: true },
        { delivery: 3n, online: true },
      ]);
      const max = MAX_INT64.toString();
      expect(await publishedUntilNow()).to.deep.equal([
        [
          'chat:to-node:node-b',
          [
            ['2', '1', max, [text]],
            ['2', '2', '1', ['second']],
            [max, '1', '2', ['']],
            ['2', '3', '1', ['third']],
          ],
        ],
      ]);
      // Passed on is sent: read later (the user resumed elsewhere), it is a redelivery.
      expect(
        (await result(store.waiting(2n, 0n, 10))).map(({ delivery, redelivered }) => [
          delivery,
          redelivered,
        ]),
      ).to.deep.equal([
        [1n, true],
        [2n, true],
        [3n, true],
      ]);
    });

    it('publishes once a node a write, each node its own deliveries in order; the offline and refused are not published', async () => {
      await withUsers(1n, 2n, 3n, 4n, 5n);
      await present(2n, 'node-b');
      await present(3n, 'node-c');
      await present(4n, 'node-b');
      const outcomes = await result(
        store.write(
          {
            messages: [
              message(1n, 3n, 'c1'),
              message(1n, 2n, 'b1'),
              message(1n, 5n, 'offline'),
              message(1n, 4n, 'b2'),
              message(1n, 9n, 'nobody'),
              message(1n, 3n, 'c2'),
              message(1n, 2n, 'b3'),
            ],
          },
          10,
        ),
      );
      expect(outcomes).to.deep.equal([
        { delivery: 1n, online: true },
        { delivery: 1n, online: true },
        { delivery: 1n, online: false },
        { delivery: 1n, online: true },
        { refused: 'unknown-recipient' },
        { delivery: 2n, online: true },
        { delivery: 2n, online: true },
      ]);
      const published = await publishedUntilNow();
      expect(published).to.have.length(2);
      expect(published).to.deep.include.members([
        [
          'chat:to-node:node-b',
          [
            ['2', '1', '1', ['b1']],
            ['4', '1', '1', ['b2']],
            ['2', '2', '1', ['b3']],
          ],
        ],
        [
          'chat:to-node:node-c',
          [
            ['3', '1', '1', ['c1']],
            ['3', '2', '1', ['c2']],
          ],
        ],
      ]);
    });

    it('does not publish a delivery for a user on its own node, and says it is online', async () => {
      await withUsers(1n, 2n);
      await present(2n, 'node-a');
      const outcomes = await result(store.write({ messages: [message(1n, 2n, 'here')] }, 10));
      expect(outcomes).to.deep.equal([{ delivery: 1n, online: true }]);
      expect(await publishedUntilNow()).to.deep.equal([]);
      // Its node wrote it to the connection: read again, it is a redelivery.
      expect(await result(store.waiting(2n, 0n, 10))).to.deep.equal([
        { delivery: 1n, from: 1n, msg: 'here', redelivered: true },
      ]);
    });

    it('counts a user whose node has no key (never beat, or gone) as offline, and publishes nothing', async () => {
      await withUsers(1n, 2n);
      await JOIN.run(link.commands, ['node-b', '2']);
      const outcomes = await result(store.write({ messages: [message(1n, 2n, 'kept')] }, 10));
      expect(outcomes).to.deep.equal([{ delivery: 1n, online: false }]);
      expect(await publishedUntilNow()).to.deep.equal([]);
      expect(await result(store.waiting(2n, 0n, 10))).to.deep.equal([
        { delivery: 1n, from: 1n, msg: 'kept', redelivered: false },
      ]);
    });

    it('counts a user as offline once its node has stopped beating and its key expired', async () => {
      await withUsers(1n, 2n);
      const other = await linkTo(redis.url);
      try {
        // Node b claims its name and user 2, as it does when it starts.
        await firstValueFrom(
          new RedisBus(other, 'node-b', () => undefined).claim(status('b'), [2n]),
          {
            defaultValue: undefined,
          },
        );
        expect(
          await result(store.write({ messages: [message(1n, 2n, 'live')] }, 10)),
        ).to.deep.equal([{ delivery: 1n, online: true }]);
        // It stops beating: its key expires (as it would after NODE_TTL_MS).
        await link.commands.pexpire('chat:node:node-b', 1);
        while (integer(await link.commands.exists('chat:node:node-b')) !== 0) {
          await new Promise((resolve) => setImmediate(resolve));
        }
        expect(
          await result(store.write({ messages: [message(1n, 2n, 'kept')] }, 10)),
        ).to.deep.equal([{ delivery: 2n, online: false }]);
        expect(await publishedUntilNow()).to.deep.equal([
          ['chat:to-node:node-b', [['2', '1', '1', ['live']]]],
        ]);
      } finally {
        await other.close();
      }
    });

    it('counts a user who left its node as offline', async () => {
      await withUsers(1n, 2n);
      await present(2n, 'node-b');
      await LEAVE.run(link.commands, ['node-b', '2']);
      expect(await result(store.write({ messages: [message(1n, 2n, 'kept')] }, 10))).to.deep.equal([
        { delivery: 1n, online: false },
      ]);
      expect(await publishedUntilNow()).to.deep.equal([]);
    });

    it("reaches the other node's RedisBus as deliveries of one recipient, in order, exact", async () => {
      await withUsers(1n, MAX_INT64);
      const other = await linkTo(redis.url);
      try {
        const bus = new RedisBus(other, 'node-b', () => undefined);
        const messages: BusMessage[] = [];
        let got: () => void = () => undefined;
        const two = new Promise<void>((resolve) => (got = resolve));
        const listening = bus.messages.subscribe((each) => {
          messages.push(each);
          if (messages.length === 2) got();
        });
        try {
          // Subscribed once its channel answers a publication.
          while (integer(await link.commands.publish('chat:to-node:node-b', '[]')) < 2) {
            await new Promise((resolve) => setImmediate(resolve));
          }
          await present(MAX_INT64, 'node-b');
          await result(
            store.write(
              {
                messages: [
                  message(1n, MAX_INT64, 'one 😀'),
                  message(1n, MAX_INT64, 'two'),
                  message(MAX_INT64, 1n, 'kept'),
                ],
              },
              10,
            ),
          );
          await result(store.write({ messages: [message(1n, MAX_INT64, 'three')] }, 10));
          await two;
          const deliveries = messages.map((each) => {
            if (!('deliver' in each)) throw new Error('not a delivery');
            expect(each.to).to.equal(MAX_INT64);
            expect(each.deliver.to.toString()).to.equal(MAX_INT64.toString());
            return each.deliver.deliveries;
          });
          expect(deliveries).to.deep.equal([
            [
              { delivery: 1n, from: 1n, msg: 'one 😀', redelivered: false },
              { delivery: 2n, from: 1n, msg: 'two', redelivered: false },
            ],
            [{ delivery: 3n, from: 1n, msg: 'three', redelivered: false }],
          ]);
        } finally {
          listening.unsubscribe();
        }
      } finally {
        await other.close();
      }
    });
  });

  describe('against a model', () => {
    it('answers every sequence of writes, reads and releases as the model does, a turn at a time or many', async () => {
      // The calls of one turn travel together.
      await fc.assert(
        fc.asyncProperty(storePlan, async (plan) => {
          await link.commands.flushall();
          store = await RedisStore.open(link.commands, 'node-a');
          // The SQLite store's contract, and no one is connected anywhere in this model.
          await expectStoreAsModel(store, plan, {
            storedOutcome: (delivery) => ({ delivery, online: false }),
          });
        }),
        { numRuns: 50 },
      );
    });
  });

  describe('durability', () => {
    let own: RedisProcess;
    let ownLink: RedisLink;

    beforeEach(async () => {
      own = await RedisProcess.start();
      ownLink = await linkTo(own.url);
    });

    afterEach(async () => {
      await ownLink.close();
      await own.remove();
    });

    it('keeps a write once it is reported, when redis-server is killed (SIGKILL) right after and started again', async () => {
      const writer = await RedisStore.open(ownLink.commands, 'node-a');
      const block = await result(writer.reserveIds(2));
      await Promise.all([
        result(writer.addUser(block.first, hash(1))),
        result(writer.addUser(block.last, hash(2))),
      ]);
      await result(writer.write({ messages: [message(block.last, block.first, 'a')] }, 10));
      const outcomes = await result(
        writer.write(
          {
            messages: [
              message(block.last, block.first, 'kept', true),
              message(block.first, block.last, 'also 😀'),
            ],
            acknowledge: { user: block.first, upTo: 1n },
          },
          10,
        ),
      );
      expect(outcomes).to.deep.equal([
        { delivery: 2n, online: false },
        { delivery: 1n, online: false },
      ]);
      const reconnected = firstValueFrom(ownLink.reconnected);
      await own.stop('SIGKILL');
      const ready = new Promise<void>((resolve) => ownLink.commands.once('ready', () => resolve()));
      await own.restart();

      const fresh = await linkTo(own.url);
      try {
        const reader = await RedisStore.open(fresh.commands, 'node-b');
        expect(reader.lastUserId).to.equal(2n);
        expect(await result(reader.findUser(1n))).to.include({
          lastDelivery: 2n,
          acknowledged: 1n,
        });
        expect((await result(reader.findUser(1n)))?.secretHash.equals(hash(1))).to.equal(true);
        expect(await result(reader.waiting(1n, 0n, 10))).to.deep.equal([
          { delivery: 2n, from: 2n, msg: 'kept', redelivered: true },
        ]);
        expect(await result(reader.waiting(2n, 0n, 10))).to.deep.equal([
          { delivery: 1n, from: 1n, msg: 'also 😀', redelivered: false },
        ]);
        expect(await result(reader.reserveIds(1))).to.deep.equal({ first: 3n, last: 3n });
      } finally {
        await fresh.close();
      }

      // The first link finds Redis again by itself, says so, and its store goes on.
      await Promise.all([ready, reconnected]);
      expect(
        await result(writer.write({ messages: [message(2n, 1n, 'after')] }, 10)),
      ).to.deep.equal([{ delivery: 3n, online: false }]);
    });

    it('answers the calls of one turn in the order they were made, right after Redis restarted (its scripts forgotten)', async () => {
      const writer = await RedisStore.open(ownLink.commands, 'node-a');
      await Promise.all([result(writer.addUser(1n, hash(1))), result(writer.addUser(2n, hash(2)))]);
      await own.stop('SIGKILL');
      const ready = new Promise<void>((resolve) => ownLink.commands.once('ready', () => resolve()));
      await own.restart();
      await ready;
      // A script, a plain command and another script in one turn: the first a store call since.
      const [written, found, waiting] = await Promise.all([
        result(writer.write({ messages: [message(1n, 2n, 'first')] }, 10)),
        result(writer.findUser(2n)),
        result(writer.waiting(2n, 0n, 10)),
      ]);
      expect(written).to.deep.equal([{ delivery: 1n, online: false }]);
      expect(found).to.include({ lastDelivery: 1n });
      expect(waiting.map(({ msg }) => msg)).to.deep.equal(['first']);
    });

    it('fails a call at once while Redis is away, and serves again once it is back', async () => {
      const writer = await RedisStore.open(ownLink.commands, 'node-a');
      await result(writer.addUser(1n, hash(1)));
      await own.stop('SIGKILL');
      const started = Date.now();
      await failure(writer.write({ messages: [message(1n, 1n, 'lost')] }, 10));
      await failure(writer.findUser(1n));
      expect(Date.now() - started).to.be.below(1000);
      const ready = new Promise<void>((resolve) => ownLink.commands.once('ready', () => resolve()));
      await own.restart();
      await ready;
      expect(await result(writer.write({ messages: [message(1n, 1n, 'kept')] }, 10))).to.deep.equal(
        [{ delivery: 1n, online: false }],
      );
    });
  });
});
