import { performance } from 'node:perf_hooks';
import { expect } from 'chai';
import fc from 'fast-check';
import { firstValueFrom, Observable, Subscription } from 'rxjs';
import { GroupCommit, pacedFlush } from '../../src/store/group-commit';

/** What one caller heard: its values, then how it ended. */
interface Heard {
  readonly values: unknown[];
  ended?: 'complete' | { readonly error: unknown };
}

function listen<T>(
  work: Observable<T>,
  log?: string[],
  name?: string,
): Heard & { sub: Subscription } {
  const heard: Heard = { values: [] };
  const sub = work.subscribe({
    next: (value) => {
      heard.values.push(value);
      log?.push(`result ${name ?? '?'}`);
    },
    complete: () => (heard.ended = 'complete'),
    error: (error: unknown) => (heard.ended = { error }),
  });
  return Object.assign(heard, { sub });
}

/**
 * A GroupCommit on a fake transaction that logs `begin`, what runs and `commit` (or `rollback`
 * when the test says it fails), with turns of the event loop played by `turn()`.
 */
function fakeCommits() {
  const log: string[] = [];
  const flushes: (() => void)[] = [];
  const state = { failCommit: undefined as Error | undefined, transactions: 0 };
  const commits = new GroupCommit(
    (operations) => {
      state.transactions++;
      log.push('begin');
      try {
        operations();
      } catch (error) {
        log.push('rollback');
        throw error;
      }
      if (state.failCommit) {
        log.push('rollback');
        throw state.failCommit;
      }
      log.push('commit');
    },
    (flush) => flushes.push(flush),
  );
  /** An operation that logs its name when it runs and returns `result`. */
  const op =
    <T>(name: string, result: T) =>
    () => {
      log.push(`run ${name}`);
      return result;
    };
  return {
    commits,
    log,
    state,
    op,
    /** How many flushes are scheduled and not run yet. */
    scheduled: () => flushes.length,
    /** The end of this turn: every flush scheduled so far runs. */
    turn: () => {
      for (const flush of flushes.splice(0)) flush();
    },
  };
}

describe('GroupCommit', () => {
  it('runs nothing and schedules nothing until the observable is subscribed', () => {
    const { commits, log, op, scheduled, turn } = fakeCommits();
    commits.run(op('a', 1));
    expect(scheduled()).to.equal(0);
    turn();
    expect(log).to.deep.equal([]);
  });

  it('runs the operations asked for in one turn in one transaction, in the order asked', () => {
    const { commits, log, op, scheduled, turn, state } = fakeCommits();
    listen(commits.run(op('a', 1)), log, 'a');
    listen(commits.run(op('b', 2)), log, 'b');
    listen(commits.run(op('c', 3)), log, 'c');
    // Nothing runs before the turn ends, and the flush is scheduled once for the three.
    expect(log).to.deep.equal([]);
    expect(scheduled()).to.equal(1);
    turn();
    expect(state.transactions).to.equal(1);
    expect(log).to.deep.equal([
      'begin',
      'run a',
      'run b',
      'run c',
      'commit',
      'result a',
      'result b',
      'result c',
    ]);
  });

  it('gives each caller its own result, once, then completes, after the commit', () => {
    const { commits, op, turn } = fakeCommits();
    const object = { some: 'thing' };
    const a = listen(commits.run(op('a', 'first')));
    const b = listen(commits.run(op('b', object)));
    const c = listen(commits.run(op('c', undefined)));
    expect(a.values).to.deep.equal([]);
    turn();
    expect(a).to.include({ ended: 'complete' });
    expect(a.values).to.deep.equal(['first']);
    expect(b.values).to.have.length(1);
    expect(b.values[0]).to.equal(object);
    expect(c.values).to.deep.equal([undefined]);
    expect(c.ended).to.equal('complete');
  });

  it('errors every caller of the turn, with no result, when an operation throws', () => {
    const { commits, log, op, turn } = fakeCommits();
    const failure = new Error('constraint failed');
    const a = listen(commits.run(op('a', 1)), log, 'a');
    const b = listen(
      commits.run(() => {
        log.push('run b');
        throw failure;
      }),
      log,
      'b',
    );
    const c = listen(commits.run(op('c', 3)), log, 'c');
    turn();
    // The operations after the failing one do not run: the transaction is rolled back.
    expect(log).to.deep.equal(['begin', 'run a', 'run b', 'rollback']);
    for (const heard of [a, b, c]) {
      expect(heard.values).to.deep.equal([]);
      expect(heard.ended).to.deep.equal({ error: failure });
    }
  });

  it('errors every caller of the turn when the commit itself fails', () => {
    const { commits, log, op, turn, state } = fakeCommits();
    const failure = new Error('disk I/O error');
    state.failCommit = failure;
    const a = listen(commits.run(op('a', 1)), log, 'a');
    const b = listen(commits.run(op('b', 2)), log, 'b');
    turn();
    expect(log).to.deep.equal(['begin', 'run a', 'run b', 'rollback']);
    expect(a.ended).to.deep.equal({ error: failure });
    expect(b.ended).to.deep.equal({ error: failure });
    expect([...a.values, ...b.values]).to.deep.equal([]);
  });

  it('does not run the operation of a caller that unsubscribed before the turn ended', () => {
    const { commits, log, op, turn } = fakeCommits();
    const a = listen(commits.run(op('a', 1)), log, 'a');
    const b = listen(commits.run(op('b', 2)), log, 'b');
    const c = listen(commits.run(op('c', 3)), log, 'c');
    b.sub.unsubscribe();
    turn();
    expect(log).to.deep.equal(['begin', 'run a', 'run c', 'commit', 'result a', 'result c']);
    expect(a.values).to.deep.equal([1]);
    expect(b.values).to.deep.equal([]);
    expect(b.ended).to.equal(undefined);
    expect(c.values).to.deep.equal([3]);
  });

  it('opens no transaction when every caller of the turn unsubscribed', () => {
    const { commits, log, op, turn, state } = fakeCommits();
    listen(commits.run(op('a', 1))).sub.unsubscribe();
    listen(commits.run(op('b', 2))).sub.unsubscribe();
    turn();
    expect(state.transactions).to.equal(0);
    expect(log).to.deep.equal([]);
  });

  it('makes another transaction for the calls of a later turn', () => {
    const { commits, log, op, turn, state, scheduled } = fakeCommits();
    const work = commits.run(op('a', 1));
    listen(work, log, 'a');
    turn();
    expect(scheduled()).to.equal(0);
    // The same observable, subscribed again, runs its operation again.
    listen(work, log, 'a');
    listen(commits.run(op('b', 2)), log, 'b');
    expect(scheduled()).to.equal(1);
    turn();
    expect(state.transactions).to.equal(2);
    expect(log).to.deep.equal([
      ...['begin', 'run a', 'commit', 'result a'],
      ...['begin', 'run a', 'run b', 'commit', 'result a', 'result b'],
    ]);
  });

  it('puts a call made while a turn is committed in the next transaction', () => {
    const { commits, log, op, turn, state, scheduled } = fakeCommits();
    let later: Heard | undefined;
    commits.run(op('a', 1)).subscribe(() => {
      log.push('result a');
      later = listen(commits.run(op('b', 2)), log, 'b');
    });
    turn();
    expect(log).to.deep.equal(['begin', 'run a', 'commit', 'result a']);
    expect(scheduled()).to.equal(1);
    turn();
    expect(state.transactions).to.equal(2);
    expect(log.slice(4)).to.deep.equal(['begin', 'run b', 'commit', 'result b']);
    expect(later?.values).to.deep.equal([2]);
  });

  it('recovers after a failed turn: the next turn commits', () => {
    const { commits, log, op, turn } = fakeCommits();
    const failed = listen(
      commits.run(() => {
        throw new Error('no');
      }),
    );
    turn();
    const next = listen(commits.run(op('a', 1)), log, 'a');
    turn();
    expect(failed.ended).to.have.property('error');
    expect(next.values).to.deep.equal([1]);
    expect(log.slice(-3)).to.deep.equal(['run a', 'commit', 'result a']);
  });

  it('for any calls and unsubscriptions over turns: one transaction a turn, of the subscribed, in order', () => {
    // A plan: the turns, each the calls made in it, each kept subscribed (true) or not.
    const plans = fc.array(fc.array(fc.boolean(), { maxLength: 6 }), { maxLength: 6 });
    fc.assert(
      fc.property(plans, (plan) => {
        const transactions: number[][] = [];
        const flushes: (() => void)[] = [];
        const commits = new GroupCommit(
          (operations) => {
            transactions.push([]);
            operations();
          },
          (flush) => flushes.push(flush),
        );
        const expected: number[][] = [];
        const heard = new Map<number, unknown[]>();
        let next = 0;
        for (const calls of plan) {
          const kept: number[] = [];
          for (const keep of calls) {
            const id = next++;
            const values: unknown[] = [];
            heard.set(id, values);
            const work = commits.run(() => {
              transactions.at(-1)?.push(id);
              return id * 10;
            });
            const sub = work.subscribe((value) => values.push(value));
            if (keep) kept.push(id);
            else sub.unsubscribe();
          }
          if (kept.length > 0) expected.push(kept);
          expect(flushes.length).to.equal(calls.length > 0 ? 1 : 0);
          for (const flush of flushes.splice(0)) flush();
        }
        expect(transactions).to.deep.equal(expected);
        for (const [id, values] of heard) {
          const kept = expected.some((ids) => ids.includes(id));
          expect(values).to.deep.equal(kept ? [id * 10] : []);
        }
      }),
    );
  });

  it('by default, on the event loop: one transaction for one turn, another for the next', async () => {
    const transactions: string[][] = [];
    const commits = new GroupCommit((operations) => {
      transactions.push([]);
      operations();
    });
    const op = (name: string) => () => {
      transactions.at(-1)?.push(name);
      return name.toUpperCase();
    };
    const first = Promise.all([
      firstValueFrom(commits.run(op('a'))),
      firstValueFrom(commits.run(op('b'))),
    ]);
    // Nothing runs in the turn the calls are made in.
    expect(transactions).to.deep.equal([]);
    expect(await first).to.deep.equal(['A', 'B']);
    expect(await firstValueFrom(commits.run(op('c')))).to.equal('C');
    expect(transactions).to.deep.equal([['a', 'b'], ['c']]);
  });

  it('commits at most once an interval when paced, the first at once', async () => {
    const schedule = pacedFlush(50);
    const flushed = () =>
      new Promise<number>((resolve) => schedule(() => resolve(performance.now())));
    const later = new Promise<'a timer of the interval'>((resolve) =>
      setTimeout(() => resolve('a timer of the interval'), 50),
    );
    expect(await Promise.race([flushed().then(() => 'the first flush'), later])).to.equal(
      'the first flush',
    );
    const first = performance.now();
    const second = await flushed();
    expect(second - first, 'the next waits for the rest of the interval').to.be.at.least(45);
  });
});
