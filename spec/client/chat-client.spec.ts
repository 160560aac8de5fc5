import Long from 'long';
import { chatClient } from '../../src/client/chat-client';
import { ClientError } from '../../src/client/client-error';
import { Identity } from '../../src/client/identity';
import { NoticeCode, NoticeKind, ReceiptStatus, ServerFrame } from '../../src/protocol/messages';
import { ack, chat, hello } from '../support/frames';
import { testScheduler } from '../support/marbles';

const SECRET = Buffer.alloc(16, 9);

const handshake = (id: number, error = false): ServerFrame => ({
  handshake: { id: Long.fromInt(id), error, secret: SECRET },
});

const welcome = (id: number, code: 'NEW_USER' | 'RESUMED', pending = 0): ServerFrame => ({
  chat: {
    ...chat(0, id, ''),
    notice: {
      kind: NoticeKind.WELCOME,
      code: NoticeCode[code],
      id: Long.fromInt(id),
      pending: Long.fromInt(pending, true),
    },
  },
});

const delivery = (from: number, to: number, msg: string, number: number): ServerFrame => ({
  chat: { ...chat(from, to, msg), delivery: Long.fromInt(number, true) },
});

const identity = (id: number, lastDelivery = 0): Identity => ({
  id: Long.fromInt(id),
  secret: SECRET,
  lastDelivery: Long.fromInt(lastDelivery, true),
});

describe('chatClient', () => {
  it('says hello, sends each line from its id, prints echoes, news and deliveries, and acknowledges each delivery', () => {
    testScheduler().run(({ cold, hot, expectObservable, expectSubscriptions }) => {
      const frames = hot('2ms h 7ms w 9ms e 9ms o 9ms d 9ms f 9ms |', {
        h: handshake(5),
        w: welcome(5, 'NEW_USER'),
        e: { chat: chat(5, 9, 'hi') },
        o: { chat: chat(0, 0, 'from the operator') },
        d: delivery(9, 5, 'hello 5', 1),
        f: { chat: chat(5, 9, 'there') },
      });
      const lines = cold('9ms a 9ms b 9ms |', { a: 'hi', b: 'there' });
      const message = (msg: string) => ({ from: Long.fromInt(5), to: Long.fromInt(9), msg });
      const expected = '2ms (srh) 4ms a 8ms e b 8ms o 9ms (pmk) 5ms (f|)';
      expectObservable(chatClient(frames, lines, Long.fromInt(9))).toBe(expected, {
        s: { type: 'status', text: 'connected as 5' },
        r: { type: 'remember', identity: identity(5) },
        h: { type: 'send', message: hello() },
        a: { type: 'send', message: message('hi') },
        b: { type: 'send', message: message('there') },
        e: { type: 'print', text: 'hi' },
        o: { type: 'print', text: 'operator: from the operator' },
        p: { type: 'print', text: '9: hello 5' },
        m: { type: 'remember', identity: identity(5, 1) },
        k: { type: 'send', message: ack(1) },
        f: { type: 'print', text: 'there' },
      });
      expectSubscriptions(lines.subscriptions).toBe('2ms ^ 28ms !');
    });
  });

  it('resumes its identity, waits for what was kept for it, and only acknowledges a delivery shown before', () => {
    testScheduler().run(({ cold, expectObservable }) => {
      const frames = cold('h 9ms w 9ms d 9ms e', {
        h: handshake(12),
        w: welcome(3, 'RESUMED', 2),
        d: delivery(4, 3, 'seen', 7),
        e: delivery(4, 3, 'new', 8),
      });
      expectObservable(chatClient(frames, cold('|'), Long.ZERO, identity(3, 7))).toBe(
        'h 9ms (cn) 6ms k 9ms (pmK|)',
        {
          h: { type: 'send', message: hello(3n, SECRET) },
          c: { type: 'status', text: 'connected as 3' },
          n: { type: 'status', text: '2 messages were kept for you' },
          k: { type: 'send', message: ack(7) },
          p: { type: 'print', text: '4: new' },
          m: { type: 'remember', identity: identity(3, 8) },
          K: { type: 'send', message: ack(8) },
        },
      );
    });
  });

  it('says when a message was refused, and gives up with the reason the server closes for', () => {
    testScheduler().run(({ cold, expectObservable }) => {
      const refusedEcho: ServerFrame = {
        chat: {
          ...chat(3, 99, 'x'),
          receipt: { status: ReceiptStatus.REFUSED, reason: 'no user has that id' },
        },
      };
      const closing: ServerFrame = {
        chat: {
          ...chat(0, 3, ''),
          notice: { kind: NoticeKind.CLOSING, text: 'wrong secret for user 3' },
        },
      };
      const frames = cold('h 9ms w 9ms r 9ms c', {
        h: handshake(3),
        w: welcome(3, 'NEW_USER'),
        r: refusedEcho,
        c: closing,
      });
      expectObservable(chatClient(frames, cold('15ms x', { x: 'x' }), Long.fromInt(99))).toBe(
        '(srh) 10ms S 4ms (pt) 6ms #',
        {
          s: { type: 'status', text: 'connected as 3' },
          r: { type: 'remember', identity: identity(3) },
          h: { type: 'send', message: hello() },
          S: { type: 'send', message: { from: Long.fromInt(3), to: Long.fromInt(99), msg: 'x' } },
          p: { type: 'print', text: 'x' },
          t: { type: 'status', text: 'message to 99 refused: no user has that id' },
        },
        new ClientError('wrong secret for user 3'),
      );
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
