import { expect } from 'chai';
import Long from 'long';
import {
  chatMessageCodec,
  frameCodec,
  scanningChatMessageCodec,
  serverFrameCodec,
} from '../../src/protocol/chat-codec';
import { ChatMessage, parseInt64 } from '../../src/protocol/messages';
import { ProtocolError } from '../../src/protocol/protocol-error';
import { everyCutInTwoOrThree } from '../support/chunkings';

const codec = chatMessageCodec(1000);

function decodeAll(bytes: Uint8Array): ChatMessage[] {
  const decoder = codec.decoder();
  return [...decoder.push(bytes), ...decoder.end()];
}

function plain(message: ChatMessage) {
  return { from: message.from.toString(), to: message.to.toString(), msg: message.msg };
}

function message(from: string, to: string, msg: string): ChatMessage {
  return { from: Long.fromString(from), to: Long.fromString(to), msg };
}

function expectInvalid(hex: string, reason: string): void {
  expect(() => decodeAll(Buffer.from(hex, 'hex')))
    .to.throw(ProtocolError, reason)
    .with.property('code', 'INVALID_MESSAGE');
}

describe('chat codecs', () => {
  it('round-trips the int64 extremes exactly, and any UTF-8 text', () => {
    const messages = [
      message('9223372036854775807', '-9223372036854775808', 'héllo, 世界 😀'),
      message('-1', '9007199254740993', ''), // 2^53 + 1: not a JS number
      message('0', '0', 'line\nbreak and \u0000 nul'),
    ];
    expect(decodeAll(codec.encode(messages)).map(plain)).to.deep.equal(messages.map(plain));
  });

  it('reads as the chat server does (scanning what it can) the same messages, and writes them back the same', () => {
    const scanning = scanningChatMessageCodec(1000);
    const messages: ChatMessage[] = [
      message('9223372036854775807', '-9223372036854775808', 'héllo, 世界 😀'),
      message('0', '0', ''),
      { ...message('0', '0', ''), ack: Long.fromNumber(7, true) },
      { ...message('0', '0', ''), hello: { id: Long.fromNumber(3) } },
    ];
    const bytes = codec.encode(messages);
    const read = scanning.decoder().push(bytes);
    expect(read.map(plain)).to.deep.equal(messages.map(plain));
    expect(read[2]?.ack?.toString()).to.equal('7');
    expect(read[3]?.hello?.id?.toString()).to.equal('3');
    expect(Buffer.from(scanning.encode(read))).to.deep.equal(Buffer.from(bytes));
  });

  it('decodes an empty frame as a message with every field at its default', () => {
    expect(decodeAll(Buffer.of(0)).map(plain)).to.deep.equal([{ from: '0', to: '0', msg: '' }]);
  });

  it('encodes a batch as one buffer of consecutive frames', () => {
    const bytes = codec.encode([message('1', '2', 'a'), message('0', '0', '')]);
    expect(Buffer.from(bytes).toString('hex')).to.equal('07' + '0801' + '1002' + '1a0161' + '00');
  });

  it('decodes the same messages however the bytes are cut', () => {
    const messages = [message('1', '-2', 'ab'), message('3', '4', 'ü')];
    const bytes = codec.encode(messages);
    for (const chunks of everyCutInTwoOrThree(bytes)) {
      const decoder = codec.decoder();
      expect(chunks.flatMap((chunk) => decoder.push(chunk)).map(plain)).to.deep.equal(
        messages.map(plain),
      );
    }
  });

  it('rejects a string field that runs past the end of its frame, instead of shortening it', () => {
    // msg claims 5 bytes, the frame holds 2 of them
    expectInvalid(
      '04' + '1a05' + '6869',
      'not a valid ChatMessage: a field runs past the end of the frame',
    );
  });

  it('rejects a string field that is not valid UTF-8', () => {
    expectInvalid('03' + '1a01' + 'ff', 'not a valid ChatMessage');
  });

  it('rejects a varint field cut off at the end of its frame', () => {
    expectInvalid(
      '02' + '08' + '80',
      'not a valid ChatMessage: a field runs past the end of the frame',
    );
  });

  it('rejects field number 0 and the wire types that do not exist', () => {
    expectInvalid('02' + '0001', 'field number 0');
    expectInvalid('02' + '0e01', 'not a valid ChatMessage');
  });

  it('skips unknown fields and known fields of the wrong wire type, as other protobuf libraries do', () => {
    // field 4 (unknown) as a string, then msg (3) sent as a varint, then to = 5
    const frame = '07' + '2201' + '61' + '1801' + '1005';
    expect(decodeAll(Buffer.from(frame, 'hex')).map(plain)).to.deep.equal([
      { from: '0', to: '5', msg: '' },
    ]);
  });

  it('decodes the first frame from a server as a Handshake and the rest as ChatMessages', () => {
    const serverFrames = serverFrameCodec(1000);
    const bytes = serverFrames.encode([
      { handshake: { id: Long.fromInt(7), error: false } },
      { chat: message('7', '0', 'hi') },
    ]);
    expect(Buffer.from(bytes).toString('hex')).to.equal('020807' + '06' + '0807' + '1a026869');
    const [handshake, chat] = serverFrames.decoder().push(bytes);
    expect(handshake).to.have.nested.property('handshake.error', false);
    expect(chat && 'chat' in chat && plain(chat.chat)).to.deep.equal({
      from: '7',
      to: '0',
      msg: 'hi',
    });
  });

  it('encodes an error handshake with the id left at its default', () => {
    const bytes = serverFrameCodec().encode([{ handshake: { id: Long.ZERO, error: true } }]);
    expect(Buffer.from(bytes).toString('hex')).to.equal('021001');
  });
});

describe('frameCodec', () => {
  it('passes frames through undecoded, each behind its length prefix', () => {
    const frames = [Buffer.from('0801', 'hex'), Buffer.alloc(0), Buffer.alloc(200, 7)];
    const bytes = frameCodec().encode(frames);
    expect(Buffer.from(bytes).subarray(0, 5).toString('hex')).to.equal('020801' + '00' + 'c8');
    expect(frameCodec().decoder().push(bytes)).to.deep.equal(frames);
  });
});

describe('parseInt64', () => {
  it('reads every int64 exactly, and nothing else', () => {
    expect(parseInt64('9223372036854775807')?.toString()).to.equal('9223372036854775807');
    expect(parseInt64('-9223372036854775808')?.toString()).to.equal('-9223372036854775808');
    expect(parseInt64('9007199254740993')?.toString()).to.equal('9007199254740993');
    for (const bad of [
      '9223372036854775808',
      '-9223372036854775809',
      '1.5',
      '',
      ' 1',
      '0x10',
      'abc',
    ]) {
      expect(parseInt64(bad), bad).to.equal(undefined);
    }
  });
});
