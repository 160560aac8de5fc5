import { expect } from 'chai';
import { NEVER, Observable, Subject } from 'rxjs';
import { mergeEach } from '../../src/server/merge-each';
import { testScheduler } from '../support/marbles';

describe('mergeEach', () => {
  it('emits what every inner emits, as it comes, and completes once the source and every inner have', () => {
    testScheduler().run(({ cold, hot, expectObservable, expectSubscriptions }) => {
      const inners: Record<string, Observable<string>> = {
        a: cold('-1--2|'),
        b: cold('3-4-----|'),
      };
      const source = hot('--a-b|');
      expectObservable(source.pipe(mergeEach((key) => inners[key] ?? NEVER))).toBe('---13-(24)--|');
      expectSubscriptions(source.subscriptions).toBe('^----!');
    });
  });

  it('errors when an inner does, and unsubscribes the source and the other inners', () => {
    testScheduler().run(({ cold, hot, expectObservable, expectSubscriptions }) => {
      const long = cold('---x---');
      const failing = cold('-#');
      const source = hot('-ab-', { a: long, b: failing });
      expectObservable(source.pipe(mergeEach((inner) => inner))).toBe('---#');
      expectSubscriptions(long.subscriptions).toBe('-^-!');
      expectSubscriptions(source.subscriptions).toBe('^--!');
    });
  });

  it('errors when the source or the project does', () => {
    testScheduler().run(({ hot, expectObservable }) => {
      expectObservable(hot('-a-#').pipe(mergeEach(() => NEVER))).toBe('---#');
    });
    const errors: unknown[] = [];
    const source = new Subject<number>();
    source
      .pipe(
        mergeEach((): Observable<number> => {
          throw new Error('project');
        }),
      )
      .subscribe({ error: (error: unknown) => errors.push(error) });
    source.next(1);
    expect(errors).to.have.length(1);
    expect(source.observed).to.equal(false);
  });

  it('unsubscribes the source and every inner still going when unsubscribed', () => {
    testScheduler().run(({ cold, hot, expectObservable, expectSubscriptions }) => {
      const short = cold('-1|');
      const long = cold('---2------');
      const source = hot('-ab-------', { a: short, b: long });
      expectObservable(source.pipe(mergeEach((inner) => inner)), '^-----!').toBe('--1--2');
      expectSubscriptions(short.subscriptions).toBe('-^-!');
      expectSubscriptions(long.subscriptions).toBe('--^---!');
      expectSubscriptions(source.subscriptions).toBe('^-----!');
    });
  });

  it('unsubscribes an inner that ended the merge while it was being subscribed', () => {
    const inner = new Observable<string>((subscriber) => {
      subscriber.next('first');
      return () => teardowns.push('inner');
    });
    const teardowns: string[] = [];
    const source = new Subject<number>();
    const merged = source.pipe(mergeEach(() => inner)).subscribe(() => merged.unsubscribe());
    source.next(1);
    expect(teardowns).to.deep.equal(['inner']);
    expect(source.observed).to.equal(false);
  });
});
