import { ClientError } from '../../src/client/client-error';
import { converse, ConversationRules } from '../../src/client/conversation';
import { testScheduler } from '../support/marbles';

/** Replies are the text sent, or news starting with "!" that answers nothing. */
const rules: ConversationRules<string, string> = {
  message: (line) => line,
  react: (reply) => ({
    effects: [{ type: 'print', text: `> ${reply}` }],
    settles: reply.startsWith('!') ? 0 : 1,
  }),
};

const send = (message: string) => ({ type: 'send', message });
const print = (text: string) => ({ type: 'print' as const, text });

describe('converse', () => {
  it('sends each line, prints each reply, and completes once the input is over and answered', () => {
    testScheduler().run(({ cold, expectObservable }) => {
      const lines = cold('a---b|');
      const replies = cold('--x---n-y---|', { x: 'a', n: '!news', y: 'b' });
      expectObservable(converse(lines, replies, rules)).toBe('a-x-b-n-(y|)', {
        a: send('a'),
        b: send('b'),
        x: print('> a'),
        n: print('> !news'),
        y: print('> b'),
      });
    });
  });

  it('fails, saying how many replies were outstanding, when the server closes first', () => {
    testScheduler().run(({ cold, expectObservable }) => {
      const lines = cold('a-b|');
      const replies = cold('-x--|', { x: 'a' });
      expectObservable(converse(lines, replies, rules)).toBe(
        'axb-#',
        { a: send('a'), b: send('b'), x: print('> a') },
        new ClientError('the server closed the connection with 1 replies outstanding'),
      );
    });
  });

  it('stops reading at the end line, and sends the farewell, unanswered', () => {
    testScheduler().run(({ cold, expectObservable, expectSubscriptions }) => {
      const lines = cold('a-E-c|');
      const replies = cold('-x', { x: 'a' });
      const farewellRules = { ...rules, endLine: 'E', farewell: 'bye' };
      expectObservable(converse(lines, replies, farewellRules)).toBe('ax(f|)', {
        a: send('a'),
        x: print('> a'),
        f: send('bye'),
      });
      expectSubscriptions(lines.subscriptions).toBe('^-!');
    });
  });

  it('sends the farewell when the input ends, and then is done', () => {
    testScheduler().run(({ cold, expectObservable }) => {
      const farewellRules = { ...rules, endLine: 'E', farewell: 'bye' };
      expectObservable(converse(cold('|'), cold('-'), farewellRules)).toBe('(f|)', {
        f: send('bye'),
      });
    });
  });

  it('waits for replies it was told to await before any line, and fails as a reply says', () => {
    testScheduler().run(({ cold, expectObservable }) => {
      const awaiting = { ...rules, awaiting: 1 };
      expectObservable(converse(cold('|'), cold('--x', { x: 'w' }), awaiting)).toBe('--(x|)', {
        x: print('> w'),
      });
      const failing: ConversationRules<string, string> = {
        ...rules,
        react: (reply) => ({ effects: [print(reply)], settles: 0, failure: `no: ${reply}` }),
      };
      expectObservable(converse(cold('-'), cold('-x', { x: 'bad' }), failing)).toBe(
        '-(x#)',
        { x: print('bad') },
        new ClientError('no: bad'),
      );
    });
  });
});
