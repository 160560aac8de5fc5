import Long from 'long';
import { chatClient } from '../../src/client/chat-client';
import { ClientError } from '../../src/client/client-error';
import { ServerFrame } from '../../src/protocol/messages';
import { chat } from '../support/frames';
import { testScheduler } from '../support/marbles';

const handshake = (id: number, error = false): ServerFrame => ({
  handshake: { id: Long.fromInt(id), error },
});

describe('chatClient', () => {
  it('reads no input before the handshake, then sends each line from its id and prints every message', () => {
    testScheduler().run(({ cold, hot, expectObservable, expectSubscriptions }) => {
      const frames = hot('--h-------e-o-f|', {
        h: handshake(5),
        e: { chat: chat(5, 9, 'hi') },
        o: { chat: chat(0, 0, 'from the operator') },
        f: { chat: chat(5, 9, 'there') },
      });
      const lines = cold('--a-b|', { a: 'hi', b: 'there' });
      const message = (msg: string) => ({ from: Long.fromInt(5), to: Long.fromInt(9), msg });
      expectObservable(chatClient(frames, lines, Long.fromInt(9))).toBe('--s-a-b---e-o-(f|)', {
        s: { type: 'status', text: 'connected as 5' },
        a: { type: 'send', message: message('hi') },
        b: { type: 'send', message: message('there') },
        e: { type: 'print', text: 'hi' },
        o: { type: 'print', text: 'from the operator' },
        f: { type: 'print', text: 'there' },
      });
      expectSubscriptions(lines.subscriptions).toBe('--^----!');
    });
  });

  it('gives up when the server refuses it, or closes before its handshake', () => {
    testScheduler().run(({ cold, expectObservable }) => {
      const refused = chatClient(cold('-r|', { r: handshake(0, true) }), cold('a|'), Long.ZERO);
      expectObservable(refused).toBe('-#', {}, new ClientError('server refused the connection'));
      const closed = chatClient(cold('--|'), cold('a|'), Long.ZERO);
      expectObservable(closed).toBe(
        '--#',
        {},
        new ClientError('the server closed the connection before its handshake'),
      );
    });
  });
});
