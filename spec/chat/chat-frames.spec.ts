import { expect } from 'chai';
import Long from 'long';
import {
  announcement,
  closingNotice,
  deliveryFrame,
  echo,
  errorNotice,
  handshake,
  notice,
  receiptFor,
  refusedHandshake,
  refusedReceipt,
  welcome,
} from '../../src/chat/chat-frames';
import {
  chatMessageCodec,
  scanningChatMessageCodec,
  serverFrameCodec,
} from '../../src/protocol/chat-codec';
import {
  ChatMessage,
  NoticeCode,
  NoticeKind,
  ReceiptStatus,
  Refusal,
  ServerFrame,
} from '../../src/protocol/messages';
import { SplicedChatMessage } from '../../src/protocol/spliced-chat-message';

const MAX_INT64 = 2n ** 63n - 1n;
const MAX_UINT64 = 2n ** 64n - 1n;

function chatOf(frame: ServerFrame): ChatMessage {
  if (!('chat' in frame)) throw new Error('not a chat frame');
  return frame.chat;
}

/** A chat frame as a client reads it off the wire. */
function overTheWire(frame: ServerFrame): ChatMessage {
  const codec = chatMessageCodec();
  const [decoded] = codec.decoder().push(codec.encode([chatOf(frame)]));
  if (!decoded) throw new Error('nothing decoded');
  return decoded;
}

/** The fields of a decoded message that are set, as plain values. */
function plain(message: object): Record<string, unknown> {
  const set: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(message)) {
    if (value == null || value === '' || value === false || value === 0) continue;
    if (Long.isLong(value)) {
      if (!value.isZero()) set[key] = value.toString();
    } else if (value instanceof Uint8Array) {
      if (value.length > 0) set[key] = Buffer.from(value).toString('hex');
    } else if (typeof value === 'object') {
      set[key] = plain(value as object);
    } else set[key] = value;
  }
  return set;
}

describe('chat frames', () => {
  describe('handshake', () => {
    it('gives the id and the secret, with no error, on the wire too', () => {
      const secret = Buffer.alloc(16, 0xab);
      const frame = handshake(Long.fromBigInt(MAX_INT64), secret);
      expect(frame).to.deep.equal({
        handshake: { id: Long.fromBigInt(MAX_INT64), error: false, secret },
      });
      const codec = serverFrameCodec();
      const [decoded] = codec.decoder().push(codec.encode([frame]));
      expect(decoded && 'handshake' in decoded && plain(decoded.handshake)).to.deep.equal({
        id: MAX_INT64.toString(),
        secret: secret.toString('hex'),
      });
    });

    it('refuses with error set and id 0, with the reason only when there is one', () => {
      expect(refusedHandshake()).to.deep.equal({ handshake: { id: Long.ZERO, error: true } });
      expect(refusedHandshake()).to.not.have.nested.property('handshake.reason');
      expect(refusedHandshake('full')).to.deep.equal({
        handshake: { id: Long.ZERO, error: true, reason: 'full' },
      });
      const codec = serverFrameCodec();
      const [decoded] = codec.decoder().push(codec.encode([refusedHandshake('full')]));
      expect(decoded && 'handshake' in decoded && plain(decoded.handshake)).to.deep.equal({
        error: true,
        reason: 'full',
      });
    });
  });

  describe('echo', () => {
    const sent: ChatMessage = {
      from: Long.fromBigInt(999n), // what the client claims: overwritten
      to: Long.fromBigInt(-5n),
      msg: 'héllo',
      ack: Long.fromBigInt(3n, true),
      hello: {},
      delivery: Long.fromBigInt(4n, true),
    };

    it('comes from the sender with the to and msg as sent, and nothing else of the frame', () => {
      expect(echo(Long.fromBigInt(7n), sent)).to.deep.equal({
        chat: { from: Long.fromBigInt(7n), to: Long.fromBigInt(-5n), msg: 'héllo' },
      });
    });

    it('carries a receipt when given one', () => {
      const receipt = { status: ReceiptStatus.STORED };
      expect(echo(Long.fromBigInt(7n), sent, receipt)).to.deep.equal({
        chat: { from: Long.fromBigInt(7n), to: Long.fromBigInt(-5n), msg: 'héllo', receipt },
      });
      expect(plain(overTheWire(echo(Long.fromBigInt(7n), sent, receipt)))).to.deep.equal({
        from: '7',
        to: '-5',
        msg: 'héllo',
        receipt: { status: ReceiptStatus.STORED },
      });
    });
  });

  describe('announcement', () => {
    it('comes from the operator (0) to 0', () => {
      expect(announcement('maintenance at noon')).to.deep.equal({
        chat: { from: Long.ZERO, to: Long.ZERO, msg: 'maintenance at noon' },
      });
    });
  });

  describe('deliveryFrame', () => {
    it('carries the sender, the text and the delivery number, and redelivered only when set', () => {
      const to = Long.fromBigInt(12n);
      const fresh = deliveryFrame(to, { delivery: 3n, from: 5n, msg: 'hi', redelivered: false });
      expect(fresh).to.deep.equal({
        chat: {
          from: Long.fromBigInt(5n),
          to,
          msg: 'hi',
          delivery: Long.fromBigInt(3n, true),
        },
      });
      expect(chatOf(fresh)).to.not.have.property('redelivered');
      const again = deliveryFrame(to, { delivery: 3n, from: 5n, msg: 'hi', redelivered: true });
      expect(chatOf(again).redelivered).to.equal(true);
      expect(plain(overTheWire(again))).to.deep.equal({
        from: '5',
        to: '12',
        msg: 'hi',
        delivery: '3',
        redelivered: true,
      });
    });

    it('keeps int64 senders and uint64 delivery numbers exact', () => {
      const frame = deliveryFrame(Long.fromBigInt(MAX_INT64), {
        delivery: MAX_UINT64,
        from: MAX_INT64,
        msg: '',
        redelivered: false,
      });
      const chat = chatOf(frame);
      expect(chat.from.toBigInt()).to.equal(MAX_INT64);
      expect(chat.delivery?.unsigned).to.equal(true);
      expect(chat.delivery?.toBigInt()).to.equal(MAX_UINT64);
      expect(plain(overTheWire(frame))).to.deep.equal({
        from: MAX_INT64.toString(),
        to: MAX_INT64.toString(),
        delivery: MAX_UINT64.toString(),
      });
    });
  });

  describe('a scanned message passed on', () => {
    const sender = Long.fromBigInt(MAX_INT64);
    const to = Long.fromBigInt(12n);
    const frame = Buffer.from(chatMessageCodec().encode([{ from: Long.ZERO, to, msg: 'hé' }]));
    const [scanned] = scanningChatMessageCodec().decoder().push(frame);
    const [decoded] = chatMessageCodec().decoder().push(frame);
    const bytes = (frame: ServerFrame) => Buffer.from(serverFrameCodec().encode([frame]));

    it("is echoed with its receipt in the bytes of the decoded message's echo", () => {
      const receipt = receiptFor({ delivery: 1n }, false);
      expect(bytes(echo(sender, scanned as ChatMessage, receipt))).to.deep.equal(
        bytes(echo(sender, decoded as ChatMessage, receipt)),
      );
    });

    it('is delivered live in the bytes of a delivery of its text; redelivered, as stored', () => {
      for (const redelivered of [false, true]) {
        const stored = { delivery: MAX_UINT64, from: MAX_INT64, msg: 'hé', redelivered };
        const live = { ...stored, message: scanned as ChatMessage };
        expect(chatOf(deliveryFrame(to, live)) instanceof SplicedChatMessage).to.equal(
          !redelivered,
        );
        expect(bytes(deliveryFrame(to, live))).to.deep.equal(bytes(deliveryFrame(to, stored)));
      }
    });
  });

  describe('notices', () => {
    const me = Long.fromBigInt(9n);

    it('come from the operator to the user, with no msg', () => {
      const fields = { kind: NoticeKind.ERROR, code: NoticeCode.HELLO_NOT_FIRST, text: 'no' };
      expect(notice(me, fields)).to.deep.equal({
        chat: { from: Long.ZERO, to: me, msg: '', notice: fields },
      });
    });

    it('say an error, with its code and text', () => {
      expect(errorNotice(me, 'UNKNOWN_DELIVERY', 'delivery 4 was never sent to you')).to.deep.equal(
        {
          chat: {
            from: Long.ZERO,
            to: me,
            msg: '',
            notice: {
              kind: NoticeKind.ERROR,
              code: NoticeCode.UNKNOWN_DELIVERY,
              text: 'delivery 4 was never sent to you',
            },
          },
        },
      );
    });

    it('say the connection closes, with its code and text, on the wire too', () => {
      const frame = closingNotice(me, 'TAKEN_OVER', 'you connected again elsewhere');
      expect(chatOf(frame).notice).to.deep.equal({
        kind: NoticeKind.CLOSING,
        code: NoticeCode.TAKEN_OVER,
        text: 'you connected again elsewhere',
      });
      expect(plain(overTheWire(frame))).to.deep.equal({
        to: '9',
        notice: {
          kind: NoticeKind.CLOSING,
          code: NoticeCode.TAKEN_OVER,
          text: 'you connected again elsewhere',
        },
      });
    });

    it('welcome a new user and a resumed one, with the id and how many deliveries follow', () => {
      expect(welcome(me, 'NEW_USER', 0n)).to.deep.equal({
        chat: {
          from: Long.ZERO,
          to: me,
          msg: '',
          notice: {
            kind: NoticeKind.WELCOME,
            code: NoticeCode.NEW_USER,
            text: 'you are user 9',
            id: me,
            pending: Long.fromBigInt(0n, true),
          },
        },
      });
      const top = Long.fromBigInt(MAX_INT64);
      const resumed = welcome(top, 'RESUMED', MAX_UINT64);
      expect(chatOf(resumed).to).to.equal(top);
      expect(chatOf(resumed).notice).to.include({
        kind: NoticeKind.WELCOME,
        code: NoticeCode.RESUMED,
        text: `resumed as user ${MAX_INT64}`,
      });
      expect(plain(overTheWire(resumed))).to.deep.equal({
        to: MAX_INT64.toString(),
        notice: {
          kind: NoticeKind.WELCOME,
          code: NoticeCode.RESUMED,
          text: `resumed as user ${MAX_INT64}`,
          id: MAX_INT64.toString(),
          pending: MAX_UINT64.toString(),
        },
      });
    });
  });

  describe('receipts', () => {
    it('say DELIVERED for a stored message whose recipient is online, STORED when offline', () => {
      expect(receiptFor({ delivery: 1n }, true)).to.deep.equal({
        status: ReceiptStatus.DELIVERED,
      });
      expect(receiptFor({ delivery: 1n }, false)).to.deep.equal({ status: ReceiptStatus.STORED });
    });

    it('say REFUSED, for people and for programs, whatever the recipient is doing', () => {
      const expected = {
        'unknown-recipient': {
          status: ReceiptStatus.REFUSED,
          refusal: Refusal.UNKNOWN_RECIPIENT,
          reason: 'no user has that id',
        },
        'mailbox-full': {
          status: ReceiptStatus.REFUSED,
          refusal: Refusal.MAILBOX_FULL,
          reason: 'too many messages are waiting for that user',
        },
        'store-failed': {
          status: ReceiptStatus.REFUSED,
          refusal: Refusal.STORE_FAILED,
          reason: 'the server could not store it',
        },
      } as const;
      for (const [refused, receipt] of Object.entries(expected)) {
        const why = refused as keyof typeof expected;
        expect(refusedReceipt(why)).to.deep.equal(receipt);
        expect(receiptFor({ refused: why }, true)).to.deep.equal(receipt);
        expect(receiptFor({ refused: why }, false)).to.deep.equal(receipt);
      }
    });

    it('travel on the echo as the client reads them', () => {
      const frame = echo(
        Long.fromBigInt(2n),
        { from: Long.ZERO, to: Long.fromBigInt(3n), msg: 'x' },
        refusedReceipt('mailbox-full'),
      );
      expect(plain(overTheWire(frame))).to.deep.equal({
        from: '2',
        to: '3',
        msg: 'x',
        receipt: {
          status: ReceiptStatus.REFUSED,
          refusal: Refusal.MAILBOX_FULL,
          reason: 'too many messages are waiting for that user',
        },
      });
    });
  });
});
