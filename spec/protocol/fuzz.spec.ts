/**
 * Property-based fuzzing of what reads a peer's bytes: the frame decoder, the protobuf codecs
 * and the line decoder. The valid streams are written by an encoder of this file's own (a few
 * lines of varints and length-delimited fields, not protobufjs), so that a mistake shared by
 * protobufjs's writer and reader cannot hide; every stream is cut into chunks at arbitrary
 * points, one byte at a time included.
 */
import { expect } from 'chai';
import fc from 'fast-check';
import Long from 'long';
import {
  chatMessageCodec,
  frameCodec,
  scanningChatMessageCodec,
  serverFrameCodec,
} from '../../src/protocol/chat-codec';
import { Decoder } from '../../src/protocol/codec';
import { FrameDecoder } from '../../src/protocol/frame-decoder';
import { LineDecoder } from '../../src/protocol/line-decoder';
import { ChatMessage, ServerFrame } from '../../src/protocol/messages';
import { ProtocolError, ProtocolErrorCode } from '../../src/protocol/protocol-error';

const RUNS = { numRuns: 300 };
const TWO_64 = 2n ** 64n;
const PROTOCOL_ERROR_CODES: readonly ProtocolErrorCode[] = [
  'FRAME_TOO_LARGE',
  'MALFORMED_LENGTH',
  'INVALID_MESSAGE',
  'LINE_TOO_LONG',
  'TRUNCATED_FRAME',
];

// ---------------------------------------------------------------------------------------------
// An independent protobuf writer: base-128 varints, two's-complement int64, length-delimited.

/** The varint of an unsigned value below 2^64, least significant group first. */
function varint(value: bigint): number[] {
  if (value < 0n || value >= TWO_64) throw new Error(`not a uint64: ${value}`);
  const bytes: number[] = [];
  for (; value >= 0x80n; value >>= 7n) bytes.push(Number(value & 0x7fn) | 0x80);
  return [...bytes, Number(value)];
}

/** The same value with `extra` groups of zero bits more: valid, but not the shortest form. */
function paddedVarint(value: bigint, extra: number): number[] {
  const bytes = varint(value);
  if (extra === 0) return bytes;
  const last = bytes.length - 1;
  return [
    ...bytes.map((byte, i) => (i === last ? byte | 0x80 : byte)),
    ...Array<number>(extra - 1).fill(0x80),
    0x00,
  ];
}

/** An int64 as protobuf writes it: its two's complement as a uint64 (10 bytes when negative). */
const int64Varint = (value: bigint) => varint(value < 0n ? value + TWO_64 : value);

const VARINT = 0;
const FIXED64 = 1;
const DELIMITED = 2;
const START_GROUP = 3;
const END_GROUP = 4;
const FIXED32 = 5;

const key = (field: number, wireType: number) => varint(BigInt(field * 8 + wireType));
const delimited = (field: number, body: readonly number[]) => [
  ...key(field, DELIMITED),
  ...varint(BigInt(body.length)),
  ...body,
];
const utf8 = (text: string) => [...Buffer.from(text, 'utf8')];

// ---------------------------------------------------------------------------------------------
// ChatMessage as plain values, and how this file writes one.

interface ReceiptModel {
  readonly status: number;
  readonly reason: string;
  readonly refusal: number;
}
interface HelloModel {
  readonly id: bigint;
  readonly secret: string; // hex
}
interface NoticeModel {
  readonly kind: number;
  readonly text: string;
  readonly code: number;
  readonly id: bigint;
  readonly pending: bigint;
}
/** Every field of a ChatMessage, defaults included: what a decoded message must equal. */
interface ChatModel {
  readonly from: bigint;
  readonly to: bigint;
  readonly msg: string;
  readonly delivery: bigint;
  readonly redelivered: boolean;
  readonly receipt: ReceiptModel | null;
  readonly hello: HelloModel | null;
  readonly ack: bigint;
  readonly notice: NoticeModel | null;
}

/** A field the schema does not know, which a reader must skip. */
type UnknownField =
  | { readonly field: number; readonly wire: 'varint'; readonly value: bigint }
  | {
      readonly field: number;
      readonly wire: 'fixed64' | 'fixed32' | 'bytes';
      readonly bytes: number[];
    }
  | { readonly field: number; readonly wire: 'group'; readonly inner: readonly UnknownField[] };

/** How one message is written: which defaults are written anyway, the order, unknown fields. */
interface Encoding {
  readonly writeDefaults: boolean;
  /** A permutation of the known fields' indices and the unknown ones', in writing order. */
  readonly order: readonly number[];
  readonly unknown: readonly UnknownField[];
}

interface WrittenMessage {
  readonly model: ChatModel;
  readonly encoding: Encoding;
  /** Extra zero groups in the frame's length prefix (a non-minimal varint). */
  readonly prefixPadding: number;
}

function unknownBytes(unknown: UnknownField): number[] {
  switch (unknown.wire) {
    case 'varint':
      return [...key(unknown.field, VARINT), ...varint(unknown.value)];
    case 'fixed64':
      return [...key(unknown.field, FIXED64), ...unknown.bytes.slice(0, 8)];
    case 'fixed32':
      return [...key(unknown.field, FIXED32), ...unknown.bytes.slice(0, 4)];
    case 'bytes':
      return delimited(unknown.field, unknown.bytes);
    case 'group':
      return [
        ...key(unknown.field, START_GROUP),
        ...unknown.inner.flatMap(unknownBytes),
        ...key(unknown.field, END_GROUP),
      ];
  }
}

function receiptBody(receipt: ReceiptModel, writeDefaults: boolean): number[] {
  return [
    ...(writeDefaults || receipt.status
      ? [...key(1, VARINT), ...varint(BigInt(receipt.status))]
      : []),
    ...(writeDefaults || receipt.reason ? delimited(2, utf8(receipt.reason)) : []),
    ...(writeDefaults || receipt.refusal
      ? [...key(3, VARINT), ...varint(BigInt(receipt.refusal))]
      : []),
  ];
}

function helloBody(hello: HelloModel, writeDefaults: boolean): number[] {
  return [
    ...(writeDefaults || hello.id ? [...key(1, VARINT), ...int64Varint(hello.id)] : []),
    ...(writeDefaults || hello.secret ? delimited(2, [...Buffer.from(hello.secret, 'hex')]) : []),
  ];
}

function noticeBody(notice: NoticeModel, writeDefaults: boolean): number[] {
  const fields = [
    notice.kind ? [...key(1, VARINT), ...varint(BigInt(notice.kind))] : undefined,
    notice.text ? delimited(2, utf8(notice.text)) : undefined,
    notice.code ? [...key(3, VARINT), ...varint(BigInt(notice.code))] : undefined,
    notice.id ? [...key(4, VARINT), ...int64Varint(notice.id)] : undefined,
    notice.pending ? [...key(5, VARINT), ...varint(notice.pending)] : undefined,
  ];
  const always = [
    [...key(1, VARINT), ...varint(BigInt(notice.kind))],
    delimited(2, utf8(notice.text)),
    [...key(3, VARINT), ...varint(BigInt(notice.code))],
    [...key(4, VARINT), ...int64Varint(notice.id)],
    [...key(5, VARINT), ...varint(notice.pending)],
  ];
  return (writeDefaults ? always : fields).flatMap((field) => field ?? []);
}

/** The body of one ChatMessage, its fields in `encoding.order`. */
function chatBody({ model, encoding }: WrittenMessage): number[] {
  const { writeDefaults } = encoding;
  const scalar = (present: boolean, bytes: () => number[]) =>
    writeDefaults || present ? bytes() : [];
  const known: number[][] = [
    scalar(model.from !== 0n, () => [...key(1, VARINT), ...int64Varint(model.from)]),
    scalar(model.to !== 0n, () => [...key(2, VARINT), ...int64Varint(model.to)]),
    scalar(model.msg !== '', () => delimited(3, utf8(model.msg))),
    scalar(model.delivery !== 0n, () => [...key(4, VARINT), ...varint(model.delivery)]),
    scalar(model.redelivered, () => [...key(5, VARINT), model.redelivered ? 1 : 0]),
    model.receipt ? delimited(6, receiptBody(model.receipt, writeDefaults)) : [],
    model.hello ? delimited(7, helloBody(model.hello, writeDefaults)) : [],
    scalar(model.ack !== 0n, () => [...key(8, VARINT), ...varint(model.ack)]),
    model.notice ? delimited(9, noticeBody(model.notice, writeDefaults)) : [],
  ];
  const parts = [...known, ...encoding.unknown.map(unknownBytes)];
  return encoding.order.flatMap((index) => parts[index] ?? []);
}

/** A stream of frames: each message behind its length prefix, all concatenated. */
function writeStream(messages: readonly WrittenMessage[]): Buffer {
  return Buffer.from(
    messages.flatMap((message) => {
      const body = chatBody(message);
      return [...paddedVarint(BigInt(body.length), message.prefixPadding), ...body];
    }),
  );
}

// ---------------------------------------------------------------------------------------------
// Arbitraries.

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;

const int64 = fc.oneof(
  { weight: 2, arbitrary: fc.constant(0n) },
  { weight: 2, arbitrary: fc.bigInt({ min: -300n, max: 300n }) },
  { weight: 1, arbitrary: fc.constantFrom(INT64_MIN, INT64_MAX, -1n, 2n ** 53n + 1n, 2n ** 31n) },
  { weight: 3, arbitrary: fc.bigInt({ min: INT64_MIN, max: INT64_MAX }) },
);
const uint64 = fc.oneof(
  { weight: 2, arbitrary: fc.constant(0n) },
  { weight: 2, arbitrary: fc.bigInt({ min: 0n, max: 300n }) },
  { weight: 1, arbitrary: fc.constantFrom(TWO_64 - 1n, 2n ** 63n, 2n ** 32n) },
  { weight: 3, arbitrary: fc.bigInt({ min: 0n, max: TWO_64 - 1n }) },
);
/** Any text: every code point (no lone surrogates: those are not text, and not UTF-8). */
const text = fc.oneof(
  { weight: 1, arbitrary: fc.constant('') },
  { weight: 3, arbitrary: fc.string({ unit: 'binary', maxLength: 40 }) },
  { weight: 1, arbitrary: fc.string({ unit: 'grapheme', maxLength: 10 }) },
  { weight: 1, arbitrary: fc.constantFrom('héllo, 世界 😀', '\u0000\n\r\t', 'x'.repeat(300)) },
);
// Enums are open in proto3: a value the schema does not name is kept as a number.
const enumValue = fc.oneof(
  fc.integer({ min: 0, max: 13 }),
  fc.integer({ min: 0, max: 2 ** 31 - 1 }),
);
const bytesHex = fc
  .uint8Array({ maxLength: 24 })
  .map((bytes) => Buffer.from(bytes).toString('hex'));

const chatModel: fc.Arbitrary<ChatModel> = fc.record({
  from: int64,
  to: int64,
  msg: text,
  delivery: uint64,
  redelivered: fc.boolean(),
  receipt: fc.option(fc.record({ status: enumValue, reason: text, refusal: enumValue }), {
    freq: 2,
  }),
  hello: fc.option(fc.record({ id: int64, secret: bytesHex }), { freq: 2 }),
  ack: uint64,
  notice: fc.option(
    fc.record({ kind: enumValue, text, code: enumValue, id: int64, pending: uint64 }),
    { freq: 2 },
  ),
});

// Field numbers from 10 up to the largest there is, 2^29 - 1.
const unknownFieldNumber = fc.oneof(
  fc.integer({ min: 10, max: 40 }),
  fc.integer({ min: 10, max: 2 ** 29 - 1 }),
);
const unknownField: fc.Arbitrary<UnknownField> = fc.letrec<{ field: UnknownField }>((tie) => ({
  field: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.record({ field: unknownFieldNumber, wire: fc.constant('varint' as const), value: uint64 }),
    fc.record({
      field: unknownFieldNumber,
      wire: fc.constantFrom('fixed64' as const, 'fixed32' as const),
      bytes: fc.array(fc.integer({ min: 0, max: 255 }), { minLength: 8, maxLength: 8 }),
    }),
    fc.record({
      field: unknownFieldNumber,
      wire: fc.constant('bytes' as const),
      bytes: fc.array(fc.integer({ min: 0, max: 255 }), { maxLength: 20 }),
    }),
    fc.record({
      field: unknownFieldNumber,
      wire: fc.constant('group' as const),
      inner: fc.array(tie('field'), { maxLength: 3 }),
    }),
  ),
})).field;

const KNOWN_FIELDS = 9;

const writtenMessage: fc.Arbitrary<WrittenMessage> = fc
  .record({
    model: chatModel,
    writeDefaults: fc.boolean(),
    unknown: fc.oneof(
      { weight: 3, arbitrary: fc.constant([]) },
      { weight: 1, arbitrary: fc.array(unknownField, { maxLength: 4 }) },
    ),
    shuffle: fc.boolean(),
    prefixPadding: fc.oneof(
      { weight: 6, arbitrary: fc.constant(0) },
      { weight: 1, arbitrary: fc.integer({ min: 1, max: 5 }) },
    ),
  })
  .chain(({ model, writeDefaults, unknown, shuffle, prefixPadding }) => {
    const indices = Array.from({ length: KNOWN_FIELDS + unknown.length }, (_, i) => i);
    const order = shuffle
      ? fc.shuffledSubarray(indices, { minLength: indices.length, maxLength: indices.length })
      : fc.constant(indices);
    return order.map((permutation) => ({
      model,
      encoding: { writeDefaults, order: permutation, unknown },
      prefixPadding,
    }));
  });

/** `bytes` cut at arbitrary points: whole, one byte at a time, or anywhere in between. */
/** The value an arbitrary generates. */
type ValueOf<A> = A extends fc.Arbitrary<infer T> ? T : never;

function chunkings(bytes: Uint8Array): fc.Arbitrary<Buffer[]> {
  const copy = (start: number, end?: number) => Buffer.from(bytes.subarray(start, end));
  const cutAt = (cuts: readonly number[]) => {
    const points = [0, ...[...cuts].sort((a, b) => a - b), bytes.length];
    return points.slice(1).map((end, i) => copy(points[i] as number, end));
  };
  const whole: Buffer[] = [copy(0)];
  if (bytes.length < 2) return fc.constant(whole);
  return fc.oneof(
    { weight: 1, arbitrary: fc.constant(whole) },
    { weight: 1, arbitrary: fc.constant(Array.from(bytes, (byte) => Buffer.of(byte))) },
    {
      weight: 5,
      arbitrary: fc
        .uniqueArray(fc.integer({ min: 1, max: bytes.length - 1 }), {
          maxLength: Math.min(bytes.length - 1, 64),
        })
        .map(cutAt),
    },
  );
}

/** A stream and a way to cut it. */
function chunked<T>(stream: fc.Arbitrary<T>, bytesOf: (value: T) => Uint8Array) {
  return stream.chain((value) => {
    const bytes = bytesOf(value);
    return chunkings(bytes).map((chunks) => ({ value, bytes, chunks }));
  });
}

// ---------------------------------------------------------------------------------------------
// Running a decoder, and reading what it decoded as plain values.

interface Outcome<T> {
  readonly values: T[];
  readonly error?: unknown;
}

/** Pushes every chunk, then ends; stops at the first exception, which it keeps. */
function run<T>(decoder: Decoder<T>, chunks: readonly Uint8Array[]): Outcome<T> {
  const values: T[] = [];
  try {
    for (const chunk of chunks) values.push(...decoder.push(chunk));
    values.push(...decoder.end());
  } catch (error) {
    return { values, error };
  }
  return { values };
}

function expectOnlyProtocolErrors(outcome: Outcome<unknown>): void {
  if (!('error' in outcome)) return;
  const { error } = outcome;
  if (!(error instanceof ProtocolError)) {
    throw new Error(`an exception other than a ProtocolError escaped: ${String(error)}`, {
      cause: error,
    });
  }
  expect(PROTOCOL_ERROR_CODES).to.include(error.code);
  expect(error.message).to.be.a('string').and.not.equal('');
}

const big = (value: Long | number | null | undefined) => BigInt((value ?? 0).toString());
const hex = (bytes: Uint8Array | null | undefined) => Buffer.from(bytes ?? []).toString('hex');

/** A decoded ChatMessage as plain values, every default filled in. */
function chatModelOf(message: ChatMessage): ChatModel {
  const { receipt, hello, notice } = message;
  return {
    from: big(message.from),
    to: big(message.to),
    msg: message.msg,
    delivery: big(message.delivery),
    redelivered: message.redelivered ?? false,
    receipt: receipt
      ? { status: receipt.status ?? 0, reason: receipt.reason ?? '', refusal: receipt.refusal ?? 0 }
      : null,
    hello: hello ? { id: big(hello.id), secret: hex(hello.secret) } : null,
    ack: big(message.ack),
    notice: notice
      ? {
          kind: notice.kind ?? 0,
          text: notice.text ?? '',
          code: notice.code ?? 0,
          id: big(notice.id),
          pending: big(notice.pending),
        }
      : null,
  };
}

function serverFrameModel(frame: ServerFrame): unknown {
  if ('chat' in frame) return chatModelOf(frame.chat);
  const { id, error, secret, reason } = frame.handshake;
  return { id: big(id), error, secret: hex(secret), reason: reason ?? '' };
}

const everyByte = (bytes: Uint8Array) => Array.from(bytes, (byte) => Buffer.of(byte));

/**
 * What any chunking of `bytes` must give, against the same bytes whole and one byte at a time:
 * only ProtocolErrors, failing or not alike, what it decodes before failing a prefix of what
 * byte-by-byte decoding gives, and, when it does not fail, exactly what the whole stream gives.
 */
function expectChunkingDoesNotMatter<T>(
  newDecoder: () => Decoder<T>,
  plain: (value: T) => unknown,
  bytes: Uint8Array,
  chunks: readonly Uint8Array[],
): void {
  const outcome = run(newDecoder(), chunks);
  expectOnlyProtocolErrors(outcome);
  const whole = run(newDecoder(), [bytes]);
  expectOnlyProtocolErrors(whole);
  const byteByByte = run(newDecoder(), everyByte(bytes));
  expectOnlyProtocolErrors(byteByByte);
  expect('error' in outcome, 'fails however the stream is cut, or never').to.equal(
    'error' in whole,
  );
  expect('error' in byteByByte).to.equal('error' in whole);
  const values = outcome.values.map(plain);
  if ('error' in outcome) {
    expect(values).to.deep.equal(byteByByte.values.map(plain).slice(0, values.length));
  } else {
    expect(values).to.deep.equal(whole.values.map(plain));
    expect(byteByByte.values.map(plain)).to.deep.equal(values);
  }
}

// ---------------------------------------------------------------------------------------------
// Streams that are not valid: random bytes, valid streams mutated, and the known-bad shapes.

interface Mutation {
  readonly at: number;
  readonly op: 'flip' | 'set' | 'insert' | 'delete';
  readonly byte: number;
}

function mutate(bytes: Uint8Array, mutations: readonly Mutation[]): Buffer {
  const out = [...bytes];
  for (const { at, op, byte } of mutations) {
    const i = out.length === 0 ? 0 : at % (out.length + (op === 'insert' ? 1 : 0));
    if (op === 'insert') out.splice(i, 0, byte);
    else if (out.length === 0) continue;
    else if (op === 'delete') out.splice(i, 1);
    else if (op === 'flip') out[i] = (out[i] as number) ^ (1 << (byte % 8));
    else out[i] = byte;
  }
  return Buffer.from(out);
}

const mutation: fc.Arbitrary<Mutation> = fc.record({
  at: fc.nat(),
  op: fc.constantFrom('flip' as const, 'set' as const, 'insert' as const, 'delete' as const),
  byte: fc.integer({ min: 0, max: 255 }),
});

const frameOf = (body: readonly number[]) => [...varint(BigInt(body.length)), ...body];

/** Frames every reader must refuse, or skip, without anything but a ProtocolError. */
const knownBadFrames: readonly (readonly number[])[] = [
  frameOf([...key(3, DELIMITED), 5, 0x68, 0x69]), // a string running past its frame
  frameOf([...key(3, DELIMITED), 1, 0xff]), // not UTF-8
  frameOf([...key(3, DELIMITED), 3, 0xed, 0xa0, 0x80]), // a UTF-8 surrogate
  frameOf([...key(3, DELIMITED), 2, 0xc0, 0x80]), // an overlong NUL
  frameOf([...key(1, VARINT), 0x80]), // a varint cut off
  frameOf([...key(1, VARINT), ...Array<number>(10).fill(0xff), 0x01]), // an 11-byte varint
  frameOf([0x00, 0x01]), // field number 0
  frameOf([0x0e, 0x01]), // wire type 6
  frameOf([0x0f, 0x01]), // wire type 7
  frameOf([...key(12, END_GROUP)]), // an end group with no start
  frameOf([...key(12, START_GROUP), 0x08, 0x01]), // a group never ended
  frameOf([...key(12, START_GROUP), ...key(13, END_GROUP)]), // a group ended by another number
  frameOf(Array<number>(120).fill(key(12, START_GROUP)[0] as number)), // groups nested deep
  frameOf([
    ...Array.from({ length: 200 }, () => key(12, START_GROUP)).flat(),
    ...Array.from({ length: 200 }, () => key(12, END_GROUP)).flat(),
  ]),
  frameOf([...key(7, DELIMITED), 3, ...key(1, VARINT), 0x80, 0x80]), // hello's id cut off
  frameOf([...key(6, DELIMITED), 9, 0x08]), // a receipt longer than its frame
  frameOf([...key(9, DELIMITED), 2, ...key(2, DELIMITED), 5]), // notice text past the notice
  frameOf([...key(7, DELIMITED), ...Array<number>(10).fill(0xff), 0x01]), // a huge submessage size
  frameOf([...key(3, FIXED64), 1, 2, 3]), // a fixed64 cut off (msg of the wrong wire type)
  [0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x00], // an 11-byte prefix
  [0xff, 0xff, 0xff, 0xff, 0x0f], // a prefix of 2^32 - 1
  [0x85], // a prefix never finished
  [0x05, 0x08], // a body never finished
];

const badStream: fc.Arbitrary<Buffer> = fc.oneof(
  { weight: 3, arbitrary: fc.uint8Array({ maxLength: 300 }).map((bytes) => Buffer.from(bytes)) },
  {
    weight: 1,
    arbitrary: fc
      .uint8Array({ maxLength: 40 })
      .map((bytes) => Buffer.from(bytes.map((byte) => byte & 0x7f))),
  },
  {
    weight: 4,
    arbitrary: fc
      .tuple(
        fc.array(writtenMessage, { maxLength: 4 }),
        fc.array(mutation, { minLength: 1, maxLength: 4 }),
      )
      .map(([messages, mutations]) => mutate(writeStream(messages), mutations)),
  },
  {
    weight: 2,
    arbitrary: fc
      .tuple(
        fc.array(writtenMessage, { maxLength: 2 }),
        fc.constantFrom(...knownBadFrames),
        fc.array(writtenMessage, { maxLength: 2 }),
      )
      .map(([before, bad, after]) =>
        Buffer.concat([writeStream(before), Buffer.from(bad), writeStream(after)]),
      ),
  },
  {
    weight: 1,
    arbitrary: fc
      .tuple(fc.array(writtenMessage, { minLength: 1, maxLength: 3 }), fc.nat())
      .map(([messages, cut]) => {
        const whole = writeStream(messages);
        return whole.subarray(0, cut % whole.length);
      }),
  },
);

// ---------------------------------------------------------------------------------------------

describe('fuzzing the decoders', function () {
  this.timeout(20_000);

  describe('valid streams, cut anywhere', () => {
    for (const [name, codec] of [
      ['', chatMessageCodec],
      [', scanning as the chat server does', scanningChatMessageCodec],
    ] as const) {
      it(`decodes any list of ChatMessages to exactly those messages, however the bytes are cut${name}`, () => {
        fc.assert(
          fc.property(
            chunked(fc.array(writtenMessage, { maxLength: 8 }), writeStream),
            ({ value: messages, chunks }) => {
              const decoder = codec().decoder();
              const decoded = chunks.flatMap((chunk) => decoder.push(chunk));
              decoded.push(...decoder.end());
              expect(decoded.map(chatModelOf)).to.deep.equal(messages.map(({ model }) => model));
            },
          ),
          RUNS,
        );
      });
    }

    it('says a frame is partial exactly while the bytes so far end inside one (what the frame timeout relies on)', () => {
      fc.assert(
        fc.property(
          chunked(fc.array(writtenMessage, { maxLength: 6 }), writeStream),
          ({ value: messages, chunks }) => {
            // Where each frame ends, from this file's own writer.
            const ends = new Set<number>([0]);
            let offset = 0;
            for (const message of messages) {
              offset += writeStream([message]).length;
              ends.add(offset);
            }
            const decoder = chatMessageCodec().decoder();
            let received = 0;
            for (const chunk of chunks) {
              decoder.push(chunk);
              received += chunk.length;
              expect(decoder.partial, `after ${received} bytes`).to.equal(!ends.has(received));
            }
          },
        ),
        RUNS,
      );
    });

    it('says a line is partial exactly while bytes after the last newline are held', () => {
      fc.assert(
        fc.property(
          chunked(fc.string({ unit: 'binary', maxLength: 80 }), (text) =>
            Buffer.from(text, 'utf8'),
          ),
          ({ bytes, chunks }) => {
            const decoder = new LineDecoder(1000);
            let received = 0;
            for (const chunk of chunks) {
              decoder.push(chunk);
              received += chunk.length;
              const held = received - (bytes.subarray(0, received).lastIndexOf(0x0a) + 1);
              expect(decoder.partial, `after ${received} bytes`).to.equal(held > 0);
            }
          },
        ),
        RUNS,
      );
    });

    it('decodes what the server sends, a Handshake then ChatMessages, however the bytes are cut', () => {
      const handshake = fc.record({
        id: int64,
        error: fc.boolean(),
        secret: bytesHex,
        reason: text,
      });
      const stream = fc.tuple(handshake, fc.array(writtenMessage, { maxLength: 5 }));
      const write = ([first, rest]: [ValueOf<typeof handshake>, WrittenMessage[]]) => {
        const body = [
          ...(first.id ? [...key(1, VARINT), ...int64Varint(first.id)] : []),
          ...(first.error ? [...key(2, VARINT), 1] : []),
          ...(first.secret ? delimited(3, [...Buffer.from(first.secret, 'hex')]) : []),
          ...(first.reason ? delimited(4, utf8(first.reason)) : []),
        ];
        return Buffer.concat([Buffer.from(frameOf(body)), writeStream(rest)]);
      };
      fc.assert(
        fc.property(chunked(stream, write), ({ value: [first, rest], chunks }) => {
          const { values, ...failed } = run(serverFrameCodec().decoder(), chunks);
          expect(failed).to.deep.equal({});
          expect(values.map(serverFrameModel)).to.deep.equal([
            first,
            ...rest.map(({ model }) => model),
          ]);
        }),
        RUNS,
      );
    });

    it('splits any frames, any prefix form, however the bytes are cut', () => {
      const frames = fc.array(
        fc.record({
          body: fc.oneof(
            fc.uint8Array({ maxLength: 40 }),
            fc.uint8Array({ minLength: 120, maxLength: 400 }),
          ),
          padding: fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 7 })),
        }),
        { maxLength: 8 },
      );
      const write = (value: { body: Uint8Array; padding: number }[]) =>
        Buffer.from(
          value.flatMap(({ body, padding }) => [
            ...paddedVarint(BigInt(body.length), padding),
            ...body,
          ]),
        );
      fc.assert(
        fc.property(chunked(frames, write), ({ value, chunks }) => {
          const { values, ...failed } = run(new FrameDecoder(400), chunks);
          expect(failed).to.deep.equal({});
          expect(values.map((frame) => frame.toString('hex'))).to.deep.equal(
            value.map(({ body }) => Buffer.from(body).toString('hex')),
          );
        }),
        RUNS,
      );
    });

    it('decodes any lines, ended by \\n or \\r\\n or by the end of the stream, however the bytes are cut', () => {
      const line = fc
        .string({ unit: 'binary', maxLength: 30 })
        .map((s) => s.replace(/\n/g, ' ').replace(/\r$/, '.'));
      const lines = fc.record({
        ended: fc.array(fc.tuple(line, fc.constantFrom('\n', '\r\n')), { maxLength: 8 }),
        last: fc.option(line.filter((s) => s !== '')),
      });
      const write = ({ ended, last }: ValueOf<typeof lines>) =>
        Buffer.from(ended.map(([l, end]) => l + end).join('') + (last ?? ''), 'utf8');
      fc.assert(
        fc.property(chunked(lines, write), ({ value: { ended, last }, chunks }) => {
          const { values, ...failed } = run(new LineDecoder(200), chunks);
          expect(failed).to.deep.equal({});
          expect(values).to.deep.equal([
            ...ended.map(([l]) => l),
            ...(last === null ? [] : [last]),
          ]);
        }),
        RUNS,
      );
    });
  });

  describe('any bytes, cut anywhere: something decoded, or a ProtocolError, nothing else', () => {
    const chatPlain = (message: ChatMessage) => chatModelOf(message);
    for (const [name, newDecoder, plain] of [
      ['ChatMessage frames', () => chatMessageCodec().decoder(), chatPlain],
      ['ChatMessage frames of at most 16 bytes', () => chatMessageCodec(16).decoder(), chatPlain],
      ['ChatMessage frames, scanning', () => scanningChatMessageCodec().decoder(), chatPlain],
      ['server frames', () => serverFrameCodec().decoder(), serverFrameModel],
      [
        'raw frames of at most 8 bytes',
        () => frameCodec(8).decoder(),
        (b: Buffer) => b.toString('hex'),
      ],
      ['lines of at most 10 bytes', () => new LineDecoder(10), (s: string) => s],
    ] as const) {
      it(name, () => {
        fc.assert(
          fc.property(
            chunked(badStream, (bytes) => bytes),
            ({ bytes, chunks }) => {
              expectChunkingDoesNotMatter<unknown>(
                newDecoder,
                plain as (value: unknown) => unknown,
                bytes,
                chunks,
              );
            },
          ),
          RUNS,
        );
      });
    }

    it('lines over the limit fail with LINE_TOO_LONG whatever the cut, and only those', () => {
      const line = fc
        .string({ unit: 'grapheme-ascii', maxLength: 24 })
        .map((s) => s.replace(/[\r\n]/g, '.'));
      const input = fc.record({
        max: fc.integer({ min: 0, max: 20 }),
        lines: fc.array(fc.tuple(line, fc.constantFrom('\n', '\r\n')), { maxLength: 5 }),
      });
      const write = ({ lines }: ValueOf<typeof input>) =>
        Buffer.from(lines.map(([l, end]) => l + end).join(''));
      fc.assert(
        fc.property(chunked(input, write), ({ value: { max, lines }, chunks }) => {
          const outcome = run(new LineDecoder(max), chunks);
          const firstTooLong = lines.findIndex(([l]) => l.length > max);
          if (firstTooLong < 0) {
            expect(outcome).to.deep.equal({ values: lines.map(([l]) => l) });
            return;
          }
          expect(outcome.error)
            .to.be.instanceOf(ProtocolError)
            .with.property('code', 'LINE_TOO_LONG');
          expect(outcome.values).to.deep.equal(
            lines
              .slice(0, firstTooLong)
              .map(([l]) => l)
              .slice(0, outcome.values.length),
          );
        }),
        RUNS,
      );
    });
  });

  describe('length prefixes that lie', () => {
    /** The index of the prefix byte at which its value so far first exceeds `max`. */
    function firstByteOver(prefix: readonly number[], max: number): number {
      let sum = 0n;
      for (const [i, byte] of prefix.entries()) {
        sum += BigInt(byte & 0x7f) << BigInt(7 * i);
        if (sum > BigInt(max)) return i;
      }
      throw new Error('the prefix does not exceed the limit');
    }

    const lie = fc
      .record({
        max: fc.oneof(fc.integer({ min: 0, max: 70_000 }), fc.integer({ min: 0, max: 64 << 20 })),
      })
      .chain(({ max }) =>
        fc.record({
          max: fc.constant(max),
          announced: fc.oneof(
            fc.constant(BigInt(max) + 1n),
            fc.constantFrom(2n ** 31n, 2n ** 32n, 2n ** 53n, 2n ** 63n, TWO_64 - 1n),
            fc.bigInt({ min: BigInt(max) + 1n, max: TWO_64 - 1n }),
          ),
          body: fc.uint8Array({ maxLength: 64 }),
        }),
      );

    it('refuses a prefix over the limit at the first byte that takes it over, before any body', () => {
      fc.assert(
        fc.property(lie, ({ max, announced, body }) => {
          const prefix = varint(announced);
          const over = firstByteOver(prefix, max);
          const decoder = new FrameDecoder(max);
          for (const [i, byte] of [...prefix, ...body].entries()) {
            if (i < over) {
              expect(decoder.push(Buffer.of(byte)), `byte ${i}`).to.deep.equal([]);
              continue;
            }
            expect(() => decoder.push(Buffer.of(byte)), `byte ${i} of ${prefix.length}`)
              .to.throw(ProtocolError, 'over the limit')
              .with.property('code', 'FRAME_TOO_LARGE');
            return;
          }
          expect.fail('the prefix was never refused');
        }),
        RUNS,
      );
    });

    it('refuses it too when the prefix and a body come in one chunk, in any codec', () => {
      fc.assert(
        fc.property(lie, ({ max, announced, body }) => {
          const bytes = Buffer.from([...varint(announced), ...body]);
          for (const decoder of [
            new FrameDecoder(max),
            chatMessageCodec(Math.max(max, 1)).decoder(),
            serverFrameCodec(Math.max(max, 1)).decoder(),
          ]) {
            if (max === 0 && !(decoder instanceof FrameDecoder)) continue;
            expect(() => decoder.push(bytes))
              .to.throw(ProtocolError)
              .with.property('code', 'FRAME_TOO_LARGE');
          }
        }),
        RUNS,
      );
    });

    it('never allocates what a prefix announces: memory follows the bytes received', () => {
      // Decoders with a limit of 2^32 bytes, each told of a frame of 2^31 bytes and more, each
      // sent a few bytes of it: 100 of them would hold 200 GiB if any allocated the announced size.
      const announced = [2n ** 31n, 2n ** 32n - 1n, 64n << 20n, 2n ** 31n + 12345n];
      fc.assert(
        fc.property(
          fc.array(fc.tuple(fc.constantFrom(...announced), fc.uint8Array({ maxLength: 200 })), {
            minLength: 100,
            maxLength: 100,
          }),
          (lies) => {
            const before = process.memoryUsage().arrayBuffers;
            const decoders = lies.map(([size, body]) => {
              const decoder = new FrameDecoder(2 ** 32);
              expect(decoder.push(Buffer.from([...varint(size), ...body]))).to.deep.equal([]);
              return { decoder, size, body };
            });
            const grown = process.memoryUsage().arrayBuffers - before;
            expect(
              grown,
              `${grown} bytes more after 100 frames of 2 GiB and more were begun`,
            ).to.be.below(8 << 20);
            for (const { decoder, size, body } of decoders) {
              expect(() => decoder.end()).to.throw(
                ProtocolError,
                `the stream ended inside a frame (${body.length} of ${size} bytes)`,
              );
            }
          },
        ),
        { numRuns: 30 },
      );
    });

    it('refuses a prefix of more than ten bytes however it is cut', () => {
      fc.assert(
        fc.property(
          chunked(
            fc.integer({ min: 10, max: 20 }).map((n) => Buffer.alloc(n, 0x80)),
            (bytes) => bytes,
          ),
          ({ chunks }) => {
            const outcome = run(new FrameDecoder(65536), chunks);
            expect(outcome.error)
              .to.be.instanceOf(ProtocolError)
              .with.property('code', 'MALFORMED_LENGTH');
          },
        ),
        { numRuns: 100 },
      );
    });

    it('bounds an unended line by the limit: refused once it passes it, whatever the cut', () => {
      fc.assert(
        fc.property(
          fc.integer({ min: 0, max: 2000 }).chain((max) =>
            chunked(
              fc.integer({ min: max + 2, max: max + 3000 }).map((n) => Buffer.alloc(n, 0x61)),
              (bytes) => bytes,
            ).map((input) => ({ max, ...input })),
          ),
          ({ max, chunks }) => {
            const decoder = new LineDecoder(max);
            let received = 0;
            for (const chunk of chunks) {
              received += chunk.length;
              if (received <= max + 1) {
                expect(decoder.push(chunk)).to.deep.equal([]);
                continue;
              }
              expect(() => decoder.push(chunk))
                .to.throw(ProtocolError)
                .with.property('code', 'LINE_TOO_LONG');
              return;
            }
            expect.fail('never refused');
          },
        ),
        RUNS,
      );
    });
  });
});
