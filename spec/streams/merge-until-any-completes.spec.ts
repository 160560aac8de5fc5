import { EMPTY } from 'rxjs';
import { mergeUntilAnyCompletes } from '../../src/streams/merge-until-any-completes';
import { testScheduler } from '../support/marbles';

describe('mergeUntilAnyCompletes', () => {
  it('merges values and completes when the first source completes, unsubscribing the others', () => {
    testScheduler().run(({ cold, hot, expectObservable, expectSubscriptions }) => {
      const a = cold('-a---b-|');
      const b = hot('--x-y---z');
      expectObservable(mergeUntilAnyCompletes(a, b)).toBe('-ax-yb-|');
      expectSubscriptions(a.subscriptions).toBe('^------!');
      expectSubscriptions(b.subscriptions).toBe('^------!');
    });
  });

  it('fails when any source fails', () => {
    testScheduler().run(({ cold, expectObservable }) => {
      expectObservable(mergeUntilAnyCompletes(cold('--a--'), cold('-#'))).toBe('-#');
    });
  });

  it('does not subscribe the sources after one that completes at once', () => {
    testScheduler().run(({ cold, expectObservable, expectSubscriptions }) => {
      const later = cold('-a');
      expectObservable(mergeUntilAnyCompletes(EMPTY, later)).toBe('|');
      expectSubscriptions(later.subscriptions).toBe([]);
    });
  });
});
