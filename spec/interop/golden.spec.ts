import { expect } from 'chai';
import Long from 'long';
import { chatMessageCodec, serverFrameCodec } from '../../src/protocol/chat-codec';
import { Codec } from '../../src/protocol/codec';
import { ChatMessage, Handshake } from '../../src/protocol/messages';
import { goldenNames, GoldenVector, loadGoldenVectors } from './golden-vectors';

type PlainMessage = Readonly<Record<string, string | boolean>>;

function plainInt64(value: Long): string {
  return value.unsigned ? `${value.toString()} (unsigned)` : value.toString();
}

function plainChat({ from, to, msg }: ChatMessage): PlainMessage {
  return { from: plainInt64(from), to: plainInt64(to), msg };
}

function plainHandshake({ id, error }: Handshake): PlainMessage {
  return { id: plainInt64(id), error };
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

function decodeOnly<T>(codec: Codec<T>, frame: Buffer): T {
  const decoder = codec.decoder();
  const values = [...decoder.push(frame), ...decoder.end()];
  const [value, ...others] = values;
  if (value === undefined || others.length > 0) {
    throw new Error(`one frame decoded to ${values.length} values`);
  }
  return value;
}

/** What the project's codec reads in protoc's bytes. */
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
    });
  }
});
