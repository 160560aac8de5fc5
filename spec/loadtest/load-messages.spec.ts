import { expect } from 'chai';
import Long from 'long';
import { LoadMessages } from '../../src/loadtest/load-messages';
import { chatMessageCodec } from '../../src/protocol/chat-codec';
import { FrameDecoder } from '../../src/protocol/frame-decoder';

function decode(bytes: Buffer) {
  return chatMessageCodec()
    .decoder()
    .push(bytes)
    .map(({ from, to, msg }) => ({ from: from.toString(), to: to.toString(), msg }));
}

describe('LoadMessages', () => {
  const id = Long.fromString('9223372036854775807');

  it('makes frames of the given text size, each carrying its sequence number', () => {
    const messages = new LoadMessages(id, id, 6);
    expect(decode(messages.frames(35, 3))).to.deep.equal([
      { from: id.toString(), to: id.toString(), msg: '.....z' },
      { from: id.toString(), to: id.toString(), msg: '....10' },
      { from: id.toString(), to: id.toString(), msg: '....11' },
    ]);
  });

  it('keeps the last digits when the number does not fit, and sends no text at size 0', () => {
    expect(new LoadMessages(id, id, 2).text(36 ** 3 - 1)).to.equal('zz');
    expect(decode(new LoadMessages(id, id, 0).frames(5, 1))).to.deep.equal([
      { from: id.toString(), to: id.toString(), msg: '' },
    ]);
  });

  it('recognizes the echo of a message, and no other', () => {
    const messages = new LoadMessages(id, id, 8);
    const [body] = new FrameDecoder(1000).push(messages.frames(7, 1));
    expect(body && messages.isEcho(body, 7)).to.equal(true);
    expect(body && messages.isEcho(body, 8)).to.equal(false);
    expect(messages.isEcho(Buffer.alloc(3), 7)).to.equal(false);
  });

  it('addresses its messages to another user, and knows their fields when decoded', () => {
    const messages = new LoadMessages(id, Long.fromInt(3), 4);
    const [decoded] = decode(messages.frames(1, 1));
    expect(decoded).to.deep.equal({ from: id.toString(), to: '3', msg: '...1' });
    const fields = { from: id, to: Long.fromInt(3), msg: '...1' };
    expect(messages.hasFields(fields, 1)).to.equal(true);
    expect(messages.hasFields(fields, 2)).to.equal(false);
    expect(messages.hasFields({ ...fields, to: id }, 1)).to.equal(false);
  });
});
