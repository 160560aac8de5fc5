import { testScheduler } from '../support/marbles';
import { echoUntilEnd } from '../../src/server/echo-services';

describe('echoUntilEnd', () => {
  it('echoes every line up to `end`, then completes without echoing it or what follows', () => {
    testScheduler().run(({ cold, expectObservable, expectSubscriptions }) => {
      const lines = cold('-a-b-c', {
        a: ['hi', 'there'],
        b: ['x', 'end', 'after'],
        c: ['never'],
      });
      expectObservable(echoUntilEnd(lines)).toBe('-a-(b|)', { a: ['hi', 'there'], b: ['x'] });
      expectSubscriptions(lines.subscriptions).toBe('^--!');
    });
  });
});
