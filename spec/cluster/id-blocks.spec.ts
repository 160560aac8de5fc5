import { expect } from 'chai';
import { Observable, of, Subscriber } from 'rxjs';
import { ID_BLOCK_SIZE, IdBlocks } from '../../src/cluster/id-blocks';
import { IdBlock } from '../../src/store/redis-store';

interface Ask {
  readonly count: number;
  readonly subscriber: Subscriber<IdBlock>;
  answered: boolean;
  cancelled: boolean;
}

/**
 * A reserve function whose answers the test gives: each call is an ask, answered when the test
 * says, with a block or an error. An ask is made when its observable is subscribed.
 */
class FakeReserve {
  readonly asks: Ask[] = [];
  readonly reserve = (count: number): Observable<IdBlock> =>
    new Observable<IdBlock>((subscriber) => {
      const ask = { count, subscriber, answered: false, cancelled: false };
      this.asks.push(ask);
      return () => {
        if (!ask.answered) ask.cancelled = true;
      };
    });

  /** Asks neither answered nor let go of. */
  get open(): number {
    return this.asks.filter(({ answered, cancelled }) => !answered && !cancelled).length;
  }

  /** Answers the latest ask with the block `first` to `last`, as a store does: once, then done. */
  grant(first: bigint, last: bigint): void {
    const ask = this.latest();
    ask.answered = true;
    const { subscriber } = ask;
    subscriber.next({ first, last });
    subscriber.complete();
  }

  /** Answers the latest ask with an error: Redis could not be reached. */
  fail(): void {
    const ask = this.latest();
    ask.answered = true;
    ask.subscriber.error(new Error('redis is away'));
  }

  private latest(): Ask {
    const ask = this.asks.at(-1);
    if (!ask || ask.answered || ask.cancelled) throw new Error('no open ask');
    return ask;
  }
}

/** IdBlocks of `size` started with the block `first`…`first + size - 1`. */
async function started(size: number, first = 1n): Promise<{ ids: IdBlocks; reserve: FakeReserve }> {
  const reserve = new FakeReserve();
  const ids = new IdBlocks(reserve.reserve, size);
  const starting = ids.start();
  expect(reserve.asks.map(({ count }) => count)).to.deep.equal([size]);
  reserve.grant(first, first + BigInt(size) - 1n);
  await starting;
  return { ids, reserve };
}

function take(ids: IdBlocks, count: number): (bigint | undefined)[] {
  return Array.from({ length: count }, () => ids.take());
}

describe('IdBlocks', () => {
  it('reserves blocks of 256 ids by default', async () => {
    const reserve = new FakeReserve();
    const ids = new IdBlocks(reserve.reserve);
    const starting = ids.start();
    expect(reserve.asks.map(({ count }) => count)).to.deep.equal([ID_BLOCK_SIZE]);
    expect(ID_BLOCK_SIZE).to.equal(256);
    reserve.grant(1n, 256n);
    await starting;
    expect(take(ids, 3)).to.deep.equal([1n, 2n, 3n]);
  });

  it('starts once its first block has come, and not before', async () => {
    const reserve = new FakeReserve();
    const ids = new IdBlocks(reserve.reserve, 4);
    let done = false;
    const starting = ids.start().then(() => (done = true));
    await Promise.resolve();
    expect(done).to.equal(false);
    reserve.grant(11n, 14n);
    await starting;
    expect(done).to.equal(true);
    expect(ids.take()).to.equal(11n);
  });

  it('fails to start when the first block cannot be reserved', async () => {
    const reserve = new FakeReserve();
    const ids = new IdBlocks(reserve.reserve, 4);
    const starting = ids.start();
    reserve.fail();
    let failed: unknown;
    await starting.catch((error: unknown) => (failed = error));
    expect(failed).to.be.instanceOf(Error);
  });

  it('hands out the ids of its block in order, once each', async () => {
    const { ids } = await started(8, 100n);
    expect(take(ids, 4)).to.deep.equal([100n, 101n, 102n, 103n]);
  });

  it('asks for the next block once half of this one is given out, and goes on with it', async () => {
    const { ids, reserve } = await started(4);
    expect(ids.take()).to.equal(1n);
    expect(reserve.asks).to.have.length(1); // 3 left
    expect(ids.take()).to.equal(2n);
    // 2 left: half.
    expect(reserve.asks.map(({ count }) => count)).to.deep.equal([4, 4]);
    // Other nodes took ids meanwhile: the next block need not follow this one.
    reserve.grant(41n, 44n);
    expect(take(ids, 4)).to.deep.equal([3n, 4n, 41n, 42n]);
    expect(reserve.asks).to.have.length(3); // 2 left of the second block: half again
    reserve.grant(81n, 84n);
    expect(take(ids, 4)).to.deep.equal([43n, 44n, 81n, 82n]);
  });

  it('never asks twice at once, however many ids are taken meanwhile', async () => {
    const { ids, reserve } = await started(4);
    expect(take(ids, 4)).to.deep.equal([1n, 2n, 3n, 4n]);
    expect(reserve.asks).to.have.length(2);
    expect(take(ids, 5)).to.deep.equal(Array(5).fill(undefined));
    expect(reserve.asks).to.have.length(2);
    expect(reserve.open).to.equal(1);
    reserve.grant(5n, 8n);
    expect(ids.take()).to.equal(5n);
  });

  it('gives undefined once its ids are out and the cluster could not be asked, and recovers once it can', async () => {
    const { ids, reserve } = await started(2);
    expect(ids.take()).to.equal(1n); // 1 left: it asks
    reserve.fail();
    expect(ids.take()).to.equal(2n); // none left: it asks again
    expect(reserve.asks).to.have.length(3);
    reserve.fail();
    // None left, none coming: each take asks again, one ask at a time.
    expect(ids.take()).to.equal(undefined);
    expect(reserve.asks).to.have.length(4);
    expect(ids.take()).to.equal(undefined);
    expect(reserve.asks).to.have.length(4);
    reserve.fail();
    expect(ids.take()).to.equal(undefined);
    expect(reserve.asks).to.have.length(5);
    // Redis is back.
    reserve.grant(201n, 202n);
    expect(take(ids, 2)).to.deep.equal([201n, 202n]);
    expect(reserve.asks).to.have.length(6);
    reserve.grant(301n, 302n);
    expect(ids.take()).to.equal(301n);
  });

  it('never gives an id twice, across blocks, failures and recoveries', async () => {
    const { ids, reserve } = await started(4);
    const given: bigint[] = [];
    let next = 5n;
    for (let round = 0; round < 30; round++) {
      const id = ids.take();
      if (id !== undefined) given.push(id);
      if (reserve.open === 1) {
        if (round % 3 === 0) reserve.fail();
        else {
          reserve.grant(next, next + 3n);
          next += 4n;
        }
      }
    }
    expect(new Set(given).size).to.equal(given.length);
    expect(given).to.deep.equal([...given].sort((a, b) => (a < b ? -1 : 1)));
    expect(given.length).to.be.above(15);
  });

  it('works with a block size that is odd', async () => {
    const { ids, reserve } = await started(3);
    expect(ids.take()).to.equal(1n); // 2 left: more than half
    expect(reserve.asks).to.have.length(1);
    expect(ids.take()).to.equal(2n); // 1 left: less than half
    expect(reserve.asks).to.have.length(2);
    reserve.grant(4n, 6n);
    expect(take(ids, 3)).to.deep.equal([3n, 4n, 5n]);
  });

  it('goes on with a reserve that answers at once', async () => {
    let next = 1n;
    const ids = new IdBlocks(() => {
      const block = { first: next, last: next + 1n };
      next += 2n;
      return of(block);
    }, 2);
    await ids.start();
    expect(take(ids, 7)).to.deep.equal([1n, 2n, 3n, 4n, 5n, 6n, 7n]);
  });

  it('lets go of an ask in flight when stopped', async () => {
    const { ids, reserve } = await started(2);
    ids.take();
    expect(reserve.open).to.equal(1);
    ids.stop();
    expect(reserve.asks.at(-1)?.cancelled).to.equal(true);
    ids.stop();
  });
});
