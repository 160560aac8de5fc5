import { expect } from 'chai';
import Long from 'long';
import { chatMessageCodec, serverFrameCodec } from '../../src/protocol/chat-codec';
import { Codec } from '../../src/protocol/codec';
import { ChatMessage, Handshake, Hello, Notice, Receipt } from '../../src/protocol/messages';
import {
  EnumTable,
  goldenNames,
  GoldenVector,
  loadGoldenVectors,
  NOTICE_CODE,
  NOTICE_KIND,
  RECEIPT_REFUSAL,
  RECEIPT_STATUS,
} from './golden-vectors';

type PlainValue = string | boolean | null | PlainMessage;
interface PlainMessage {
  readonly [field: string]: PlainValue;
}

/** Every field, at its default when unset: what proto3 can tell apart on the wire. */

function plainInt64(value: Long | null | undefined, unsigned = false): string {
  const long = value ?? (unsigned ? Long.UZERO : Long.ZERO);
  return long.unsigned ? `${long.toString()} (unsigned)` : long.toString();
}

function plainBytes(value: Uint8Array | null | undefined): string {
  return Buffer.from(value ?? []).toString('hex');
}

function plainEnum(value: number | null | undefined, values: EnumTable): string {
  const number = value ?? 0;
  return Object.keys(values).find((name) => values[name] === number) ?? `${number} (unknown)`;
}

function plainReceipt(receipt: Receipt): PlainMessage {
  return {
    status: plainEnum(receipt.status, RECEIPT_STATUS),
    reason: receipt.reason ?? '',
    refusal: plainEnum(receipt.refusal, RECEIPT_REFUSAL),
  };
}

function plainHello(hello: Hello): PlainMessage {
  return { id: plainInt64(hello.id), secret: plainBytes(hello.secret) };
}

function plainNotice(notice: Notice): PlainMessage {
  return {
    kind: plainEnum(notice.kind, NOTICE_KIND),
    text: notice.text ?? '',
    code: plainEnum(notice.code, NOTICE_CODE),
    id: plainInt64(notice.id),
    pending: plainInt64(notice.pending, true),
  };
}

function plainChat(message: ChatMessage): PlainMessage {
  return {
    from: plainInt64(message.from),
    to: plainInt64(message.to),
    msg: message.msg,
    delivery: plainInt64(message.delivery, true),
    redelivered: message.redelivered ?? false,
    receipt: message.receipt == null ? null : plainReceipt(message.receipt),
    hello: message.hello == null ? null : plainHello(message.hello),
    ack: plainInt64(message.ack, true),
    notice: message.notice == null ? null : plainNotice(message.notice),
  };
}

function plainHandshake(handshake: Handshake): PlainMessage {
  return {
    id: plainInt64(handshake.id),
    error: handshake.error,
    secret: plainBytes(handshake.secret),
    reason: handshake.reason ?? '',
  };
}

/** A varint written here, not by protobufjs, so that the frames do not come from the code under test. */
function varint(value: number): number[] {
  const bytes: number[] = [];
  for (; value > 0x7f; value >>>= 7) bytes.push((value & 0x7f) | 0x80);
  return [...bytes, value];
}

/** protoc writes bare messages; on the wire each is a frame behind its varint length. */
function frameOf(message: Buffer): Buffer {
  return Buffer.concat([Buffer.from(varint(message.length)), message]);
}

/** The frame of a Handshake with every field at its default: zero bytes behind a zero length. */
const EMPTY_HANDSHAKE_FRAME = Buffer.from([0]);

function decodeAll<T>(codec: Codec<T>, frames: Buffer): T[] {
  const decoder = codec.decoder();
  return [...decoder.push(frames), ...decoder.end()];
}

function decodeOnly<T>(codec: Codec<T>, frame: Buffer): T {
  const values = decodeAll(codec, frame);
  const [value, ...others] = values;
  if (value === undefined || others.length > 0) {
    throw new Error(`one frame decoded to ${values.length} values`);
  }
  return value;
}

/** What the project's codec reads in protoc's bytes: as the server reads a client's frames, and the client the server's first frame. */
function decodedByCodec(vector: GoldenVector): PlainMessage {
  const frame = frameOf(vector.protocBytes);
  if (vector.type === 'ChatMessage') return plainChat(decodeOnly(chatMessageCodec(), frame));
  const first = decodeOnly(serverFrameCodec(), frame);
  if (!('handshake' in first))
    throw new Error('the first server frame did not decode as a handshake');
  return plainHandshake(first.handshake);
}

/** The frame the project's codec writes for the vector's values. */
function encodedByCodec(vector: GoldenVector): Uint8Array {
  return vector.type === 'ChatMessage'
    ? chatMessageCodec().encode([vector.message])
    : serverFrameCodec().encode([{ handshake: vector.message }]);
}

/** What a client reads in protoc's bytes of a ChatMessage from the server, the frame after a handshake. */
function decodedAsServerFrame(protocBytes: Buffer): PlainMessage {
  const frames = decodeAll(
    serverFrameCodec(),
    Buffer.concat([EMPTY_HANDSHAKE_FRAME, frameOf(protocBytes)]),
  );
  const [handshake, second, ...others] = frames;
  if (!handshake || !('handshake' in handshake) || !second || others.length > 0) {
    throw new Error(`a handshake and one frame decoded to ${JSON.stringify(frames)}`);
  }
  if (!('chat' in second)) throw new Error('the frame after the handshake is not a chat message');
  return plainChat(second.chat);
}

function expectedValues(vector: GoldenVector): PlainMessage {
  return vector.type === 'ChatMessage' ? plainChat(vector.message) : plainHandshake(vector.message);
}

function hex(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString('hex');
}

describe('interop with protoc: golden vectors in spec/golden', () => {
  it('has a .bin from protoc for every .txtpb source, and no other .bin', () => {
    const sources = goldenNames('.txtpb');
    expect(sources).to.have.length.above(0);
    expect(goldenNames('.bin')).to.have.members(sources);
  });

  for (const vector of loadGoldenVectors()) {
    describe(`${vector.name} (${vector.type}, ${vector.protocBytes.length} bytes)`, () => {
      it("decodes protoc's bytes to exactly the values in its .txtpb", () => {
        expect(decodedByCodec(vector)).to.deep.equal(expectedValues(vector));
      });

      it("encodes the values in its .txtpb to exactly protoc's bytes, behind the length prefix", () => {
        expect(hex(encodedByCodec(vector))).to.equal(hex(frameOf(vector.protocBytes)));
      });

      if (vector.type === 'ChatMessage') {
        const { message, protocBytes } = vector;
        it('reads and writes it the same as a frame from the server, after the handshake', () => {
          expect(decodedAsServerFrame(protocBytes)).to.deep.equal(plainChat(message));
          const encoded = serverFrameCodec().encode([{ chat: message }]);
          expect(hex(encoded)).to.equal(hex(frameOf(protocBytes)));
        });
      }
    });
  }
});
