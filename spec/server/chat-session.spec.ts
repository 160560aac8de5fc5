import { testScheduler } from '../support/marbles';
import { map } from 'rxjs';
import { chatSession } from '../../src/server/chat-service';
import { chat, plainFrame } from '../support/frames';

describe('chatSession', () => {
  it('sends the handshake first, then echoes every batch in order with `from` set to the user', () => {
    testScheduler().run(({ cold, expectObservable, expectSubscriptions }) => {
      const input = cold('--a---b--|', {
        a: [chat(99, 5, 'one'), chat(0, -1, 'two')],
        b: [chat(-7, '9223372036854775807', '')],
      });
      const output = chatSession(3n, input).pipe(map((batch) => batch.map(plainFrame)));
      expectObservable(output).toBe('h-a---b--|', {
        h: [{ handshake: '3' }],
        a: [
          { from: '3', to: '5', msg: 'one' },
          { from: '3', to: '-1', msg: 'two' },
        ],
        b: [{ from: '3', to: '9223372036854775807', msg: '' }],
      });
      expectSubscriptions(input.subscriptions).toBe('^--------!');
    });
  });

  it('ends when the user ends its input, and stops listening when unsubscribed', () => {
    testScheduler().run(({ cold, expectObservable, expectSubscriptions }) => {
      const input = cold('----a', { a: [chat(1, 1, 'late')] });
      expectObservable(chatSession(1n, input).pipe(map((b) => b.length)), '^--!').toBe('1--', {
        1: 1,
      });
      expectSubscriptions(input.subscriptions).toBe('^--!');
    });
  });
});
