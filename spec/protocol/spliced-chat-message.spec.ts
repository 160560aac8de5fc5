import { expect } from 'chai';
import fc from 'fast-check';
import Long from 'long';
import * as generated from '../../src/protocol/generated/chat';
import { ChatMessage, Receipt, ReceiptStatus, Refusal } from '../../src/protocol/messages';
import {
  scanChatMessage,
  ScannedChatMessage,
  SplicedChatMessage,
  SplicedFields,
} from '../../src/protocol/spliced-chat-message';

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;

const int64 = fc.oneof(
  fc.constant(0n),
  fc.bigInt({ min: -300n, max: 300n }),
  fc.constantFrom(INT64_MIN, INT64_MAX, -1n, 2n ** 53n + 1n, 2n ** 31n, 2n ** 32n),
  fc.bigInt({ min: INT64_MIN, max: INT64_MAX }),
);
const text = fc.oneof(
  fc.constant(''),
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.string({ unit: 'grapheme', maxLength: 10 }),
  fc.constantFrom('héllo, 世界 😀', 'x'.repeat(300)),
);

const RECEIPTS: readonly (Receipt | undefined)[] = [
  undefined,
  { status: ReceiptStatus.DELIVERED },
  { status: ReceiptStatus.STORED },
  {
    status: ReceiptStatus.REFUSED,
    refusal: Refusal.MAILBOX_FULL,
    reason: 'too many messages are waiting for that user',
  },
];

/** The varint of `value`'s 64 bits, with `padding` needless zero groups when it has room. */
function varint(value: bigint, padding = 0): number[] {
  const bytes: number[] = [];
  let rest = BigInt.asUintN(64, value);
  do {
    bytes.push(Number(rest & 0x7fn) | 0x80);
    rest >>= 7n;
  } while (rest > 0n);
  for (let i = 0; i < padding && bytes.length < 10; i++) bytes.push(0x80);
  bytes[bytes.length - 1] = (bytes[bytes.length - 1] as number) & 0x7f;
  return bytes;
}

/** Fields of the three kinds the scanner reads, in any order, repeated, with any padding. */
const field = fc.oneof(
  fc
    .tuple(fc.constantFrom(0x08, 0x10), int64, fc.nat(3))
    .map(([tag, value, padding]) => [tag, ...varint(value, padding)]),
  fc
    .tuple(
      fc.oneof(
        text.map((t) => Buffer.from(t)),
        fc.uint8Array({ maxLength: 8 }),
      ),
    )
    .map(([bytes]) => [0x1a, ...varint(BigInt(bytes.length)), ...bytes]),
  fc.uint8Array({ minLength: 1, maxLength: 4 }).map((bytes) => [...bytes]),
);
const fieldFrames = fc.array(field, { maxLength: 6 }).map((fields) => Buffer.from(fields.flat()));

const decode = (frame: Buffer) => generated.ChatMessage.decode(frame);

function fieldsOf(message: ChatMessage) {
  return { from: message.from.toString(), to: message.to.toString(), msg: message.msg };
}

/**
 * What protobufjs encodes for `message` passed on from `sender`, with a delivery number or a
 * receipt (or both, or neither), without a length prefix.
 */
function encodedPassedOn(sender: Long, message: ChatMessage, fields: SplicedFields): Buffer {
  const { to, msg } = message;
  const { delivery, receipt } = fields;
  return Buffer.from(
    generated.ChatMessage.encode({
      from: sender,
      to,
      msg,
      ...(delivery === undefined ? {} : { delivery: Long.fromBigInt(delivery, true) }),
      ...(receipt === undefined ? {} : { receipt }),
    }).finish(),
  );
}

function framed(body: Buffer): string {
  return Buffer.from([...varint(BigInt(body.length)), ...body]).toString('hex');
}

function writtenFramed(message: SplicedChatMessage): string {
  const bytes = Buffer.alloc(message.framedLength);
  expect(message.writeFramed(bytes, 0)).to.equal(bytes.length);
  return bytes.toString('hex');
}

const deliveries = fc.option(
  fc.oneof(
    fc.bigInt({ min: 1n, max: 300n }),
    fc.constantFrom(2n ** 53n - 1n, 2n ** 53n, 2n ** 63n, 2n ** 64n - 1n),
    fc.bigInt({ min: 1n, max: 2n ** 64n - 1n }),
  ),
  { nil: undefined },
);
const splicedFields: fc.Arbitrary<SplicedFields> = fc
  .tuple(deliveries, fc.constantFrom(...RECEIPTS))
  .map(([delivery, receipt]) => ({
    ...(delivery === undefined ? {} : { delivery }),
    ...(receipt === undefined ? {} : { receipt }),
  }));

const senders = fc.bigInt({ min: 1n, max: INT64_MAX }).map((id) => Long.fromBigInt(id));

describe('spliced chat messages', () => {
  it('scans every frame protobufjs writes of from, to and msg, and reads as protobufjs decodes it', () => {
    fc.assert(
      fc.property(int64, int64, text, (from, to, msg) => {
        const frame = Buffer.from(
          generated.ChatMessage.encode({
            from: Long.fromBigInt(from),
            to: Long.fromBigInt(to),
            msg,
          }).finish(),
        );
        const scanned = scanChatMessage(frame);
        expect(scanned).to.be.instanceOf(ScannedChatMessage);
        expect(fieldsOf(scanned as ScannedChatMessage)).to.deep.equal(fieldsOf(decode(frame)));
      }),
      { numRuns: 2000 },
    );
  });

  it('scans only what protobufjs decodes, to the same fields, and passes it on byte for byte as protobufjs would', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fieldFrames,
          fc.uint8Array({ maxLength: 24 }).map((b) => Buffer.from(b)),
        ),
        senders,
        splicedFields,
        (frame, sender, fields) => {
          const scanned = scanChatMessage(frame);
          if (!scanned) return;
          const decoded = decode(frame);
          expect(fieldsOf(scanned)).to.deep.equal(fieldsOf(decoded));
          const expected = encodedPassedOn(sender, decoded, fields);
          const spliced = new SplicedChatMessage(sender, scanned, fields);
          expect(writtenFramed(spliced)).to.equal(framed(expected));
          expect(spliced.bytes()).to.deep.equal(expected);
          expect(spliced.delivery.toString()).to.equal(String(fields.delivery ?? 0n));
        },
      ),
      { numRuns: 5000 },
    );
  });

  it('leaves to protobufjs what it does not read itself: other fields, broken varints, bad UTF-8', () => {
    const cases: Record<string, string> = {
      'a hello': '3a00',
      'an ack': '4001',
      'an unknown field': '9801' + '01',
      'from with the wrong wire type': '0a0161',
      'a varint past the frame': '1080',
      'a varint of 11 bytes': '10' + '80'.repeat(10) + '01',
      'to padded with a zero group': '108100',
      'to with bits past the 64th': '10' + 'ff'.repeat(9) + '7f',
      'a text past the frame': '1a0561',
      'a text that is not UTF-8': '1a02c328',
    };
    for (const [what, hex] of Object.entries(cases)) {
      expect(scanChatMessage(Buffer.from(hex, 'hex')), what).to.equal(undefined);
    }
  });

  it('tells an echo from a direct message by its recipient alone', () => {
    const sender = Long.fromBigInt(2n ** 40n + 7n);
    const scan = (to: bigint) =>
      scanChatMessage(
        Buffer.from(generated.ChatMessage.encode({ to: Long.fromBigInt(to), msg: 'x' }).finish()),
      ) as ScannedChatMessage;
    expect(scan(0n).isEchoFor(sender.low, sender.high)).to.equal(true);
    expect(scan(-5n).isEchoFor(sender.low, sender.high)).to.equal(true);
    expect(scan(2n ** 40n + 7n).isEchoFor(sender.low, sender.high)).to.equal(true);
    expect(scan(7n).isEchoFor(sender.low, sender.high)).to.equal(false);
    expect(scan(2n ** 40n + 8n).isEchoFor(sender.low, sender.high)).to.equal(false);
  });
});
