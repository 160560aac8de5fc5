import { expect } from 'chai';
import fc from 'fast-check';
import Long from 'long';
import { isEchoOnly, route } from '../../src/chat/routing';
import { chatMessageCodec } from '../../src/protocol/chat-codec';
import { ChatMessage, Hello } from '../../src/protocol/messages';

const MAX_INT64 = 2n ** 63n - 1n;
const MIN_INT64 = -(2n ** 63n);
const MAX_UINT64 = 2n ** 64n - 1n;

const SENDER = Long.fromBigInt(42n);

function message(to: bigint, msg = 'hi', extra: Partial<ChatMessage> = {}): ChatMessage {
  return { from: Long.ZERO, to: Long.fromBigInt(to), msg, ...extra };
}

function ackOf(upTo: bigint): Partial<ChatMessage> {
  return { ack: Long.fromBigInt(upTo, true) };
}

function helloOf(hello: Hello = {}): Partial<ChatMessage> {
  return { hello };
}

/** The message as the server reads it off the wire: every absent field as protobufjs decodes it. */
function decoded(sent: ChatMessage): ChatMessage {
  const codec = chatMessageCodec();
  const [received] = codec.decoder().push(codec.encode([sent]));
  if (!received) throw new Error('nothing decoded');
  return received;
}

describe('routing', () => {
  describe('route', () => {
    it('echoes a message to 0, to a negative id, or to the sender itself', () => {
      for (const to of [0n, -1n, -42n, MIN_INT64, 42n]) {
        expect(route(message(to), SENDER), `to ${to}`).to.deep.equal({ kind: 'echo' });
        expect(route(decoded(message(to)), SENDER), `decoded, to ${to}`).to.deep.equal({
          kind: 'echo',
        });
      }
    });

    it('sends a message to any other positive id, exactly, up to 2^63 - 1', () => {
      for (const to of [1n, 41n, 43n, 2n ** 53n + 1n, MAX_INT64 - 1n, MAX_INT64]) {
        expect(route(message(to), SENDER), `to ${to}`).to.deep.equal({
          kind: 'direct',
          recipient: to,
        });
        expect(route(decoded(message(to)), SENDER)).to.deep.equal({
          kind: 'direct',
          recipient: to,
        });
      }
    });

    it('compares with the sender exactly, also at the int64 extremes', () => {
      const top = Long.fromBigInt(MAX_INT64);
      expect(route(message(MAX_INT64), top)).to.deep.equal({ kind: 'echo' });
      expect(route(message(MAX_INT64 - 1n), top)).to.deep.equal({
        kind: 'direct',
        recipient: MAX_INT64 - 1n,
      });
      // 2^53 + 1 and 2^53 are the same double: they must not be taken for each other.
      const beyondDouble = Long.fromBigInt(2n ** 53n + 1n);
      expect(route(message(2n ** 53n), beyondDouble)).to.deep.equal({
        kind: 'direct',
        recipient: 2n ** 53n,
      });
    });

    it('routes by `to` alone: the `from` a client sends does not matter', () => {
      expect(route({ ...message(7n), from: Long.fromBigInt(7n) }, SENDER)).to.deep.equal({
        kind: 'direct',
        recipient: 7n,
      });
      expect(route({ ...message(0n), from: Long.fromBigInt(MAX_INT64) }, SENDER)).to.deep.equal({
        kind: 'echo',
      });
    });

    it('sends an empty message to another user like any other', () => {
      expect(route(message(7n, ''), SENDER)).to.deep.equal({ kind: 'direct', recipient: 7n });
    });

    it('takes a hello with no to and no msg as a hello, with its id and secret', () => {
      const resume: Hello = { id: Long.fromBigInt(MAX_INT64), secret: Buffer.alloc(16, 3) };
      expect(route(message(0n, '', helloOf()), SENDER)).to.deep.equal({ kind: 'hello', hello: {} });
      const routed = route(message(0n, '', helloOf(resume)), SENDER);
      expect(routed).to.deep.equal({ kind: 'hello', hello: resume });
      const fromTheWire = route(decoded(message(0n, '', helloOf(resume))), SENDER);
      expect(fromTheWire.kind).to.equal('hello');
      if (fromTheWire.kind !== 'hello') return;
      expect(Long.fromValue(fromTheWire.hello.id ?? 0).toBigInt()).to.equal(MAX_INT64);
      expect(Buffer.from(fromTheWire.hello.secret ?? []).equals(Buffer.alloc(16, 3))).to.equal(
        true,
      );
    });

    it('takes an ack with no to and no msg as an ack, exactly, up to 2^64 - 1', () => {
      for (const upTo of [1n, 2n ** 53n + 1n, MAX_INT64, MAX_UINT64]) {
        expect(route(message(0n, '', ackOf(upTo)), SENDER), `ack ${upTo}`).to.deep.equal({
          kind: 'ack',
          upTo,
        });
        expect(route(decoded(message(0n, '', ackOf(upTo))), SENDER)).to.deep.equal({
          kind: 'ack',
          upTo,
        });
      }
    });

    it('takes an ack of 0 as no ack: the frame is an ordinary message', () => {
      expect(route(message(0n, '', ackOf(0n)), SENDER)).to.deep.equal({ kind: 'echo' });
      expect(route(message(5n, 'x', ackOf(0n)), SENDER)).to.deep.equal({
        kind: 'direct',
        recipient: 5n,
      });
    });

    it('takes a hello or an ack that also has a to or a msg as mixed', () => {
      const controls = { hello: helloOf(), ack: ackOf(3n) };
      for (const [name, control] of Object.entries(controls)) {
        for (const [to, msg] of [
          [5n, ''],
          [0n, 'text'],
          [5n, 'text'],
          [42n, ''], // to the sender itself
          [-1n, ''],
          [MIN_INT64, ''],
          [MAX_INT64, ''],
        ] as const) {
          expect(
            route(message(to, msg, control), SENDER),
            `${name} to ${to} msg '${msg}'`,
          ).to.deep.equal({ kind: 'mixed' });
          expect(route(decoded(message(to, msg, control)), SENDER)).to.deep.equal({
            kind: 'mixed',
          });
        }
      }
    });

    it('takes a frame with both a hello and an ack as mixed', () => {
      const both = message(0n, '', { ...helloOf(), ...ackOf(1n) });
      expect(route(both, SENDER)).to.deep.equal({ kind: 'mixed' });
      expect(route(decoded(both), SENDER)).to.deep.equal({ kind: 'mixed' });
    });

    it('takes a message whose hello is null, as protobufjs decodes an absent one, as no hello', () => {
      expect(route(message(0n, 'x', { hello: null }), SENDER)).to.deep.equal({
        kind: 'echo',
      });
    });
  });

  describe('isEchoOnly', () => {
    it('is true exactly for the messages route echoes', () => {
      expect(isEchoOnly(message(0n), SENDER)).to.equal(true);
      expect(isEchoOnly(message(-1n), SENDER)).to.equal(true);
      expect(isEchoOnly(message(42n), SENDER)).to.equal(true);
      expect(isEchoOnly(message(1n), SENDER)).to.equal(false);
      expect(isEchoOnly(message(0n, '', helloOf()), SENDER)).to.equal(false);
      expect(isEchoOnly(message(0n, '', ackOf(1n)), SENDER)).to.equal(false);
      expect(isEchoOnly(message(0n, 'x', ackOf(1n)), SENDER)).to.equal(false);
    });

    it('agrees with route for any message and sender', () => {
      const int64 = fc.bigInt({ min: MIN_INT64, max: MAX_INT64 });
      const sender = fc.bigInt({ min: 1n, max: MAX_INT64 });
      const messages = fc.record({
        to: fc.oneof(int64, fc.constantFrom(0n, -1n, 1n, MAX_INT64, MIN_INT64)),
        msg: fc.oneof(fc.constant(''), fc.string({ maxLength: 4 })),
        hello: fc.option(fc.constant({}), { nil: undefined }),
        ack: fc.option(fc.oneof(fc.constant(0n), fc.bigInt({ min: 0n, max: MAX_UINT64 })), {
          nil: undefined,
        }),
        toSelf: fc.boolean(),
      });
      fc.assert(
        fc.property(messages, sender, (generated, id) => {
          const to = generated.toSelf ? id : generated.to;
          const extra: Partial<ChatMessage> = {
            ...(generated.hello ? helloOf(generated.hello) : {}),
            ...(generated.ack === undefined ? {} : ackOf(generated.ack)),
          };
          const sent = message(to, generated.msg, extra);
          const from = Long.fromBigInt(id);
          for (const each of [sent, decoded(sent)]) {
            const routed = route(each, from);
            expect(isEchoOnly(each, from)).to.equal(routed.kind === 'echo');
            const control = generated.hello !== undefined || (generated.ack ?? 0n) !== 0n;
            if (!control) {
              expect(routed).to.deep.equal(
                to > 0n && to !== id ? { kind: 'direct', recipient: to } : { kind: 'echo' },
              );
            } else if (
              to !== 0n ||
              generated.msg !== '' ||
              (generated.hello !== undefined && (generated.ack ?? 0n) !== 0n)
            ) {
              expect(routed).to.deep.equal({ kind: 'mixed' });
            } else {
              expect(routed.kind).to.equal(generated.hello ? 'hello' : 'ack');
            }
          }
        }),
      );
    });
  });
});
