import { expect } from 'chai';
import { FrameDecoder } from '../../src/protocol/frame-decoder';
import { ProtocolError } from '../../src/protocol/protocol-error';
import { everyChunking, everyCutInTwoOrThree } from '../support/chunkings';

function decodeChunks(chunks: Buffer[], maxFrameBytes = 1000): string[] {
  const decoder = new FrameDecoder(maxFrameBytes);
  return [...chunks.flatMap((chunk) => decoder.push(chunk)), ...decoder.end()].map((frame) =>
    frame.toString('hex'),
  );
}

function varint(value: number): number[] {
  const bytes: number[] = [];
  for (; value >= 0x80; value = Math.floor(value / 0x80)) bytes.push((value % 0x80) | 0x80);
  return [...bytes, value];
}

function frame(body: Buffer): Buffer {
  return Buffer.concat([Buffer.from(varint(body.length)), body]);
}

describe('FrameDecoder', () => {
  it('gives the same frames for every way of cutting the input into chunks', () => {
    // A one-byte frame, an empty frame, a three-byte frame and a frame with a non-minimal prefix.
    const input = Buffer.from('01aa' + '00' + '03bbccdd' + '8200eeff', 'hex');
    let chunkings = 0;
    for (const chunks of everyChunking(input)) {
      expect(decodeChunks(chunks)).to.deep.equal(['aa', '', 'bbccdd', 'eeff']);
      chunkings++;
    }
    expect(chunkings).to.equal(2 ** (input.length - 1));
  });

  it('gives the same frames for every cut of frames with two-byte length prefixes', () => {
    const bodies = [Buffer.alloc(200, 1), Buffer.alloc(0), Buffer.alloc(130, 2)];
    const input = Buffer.concat(bodies.map(frame));
    const expected = bodies.map((body) => body.toString('hex'));
    for (const chunks of everyCutInTwoOrThree(input)) {
      expect(decodeChunks(chunks)).to.deep.equal(expected);
    }
  });

  it('returns a frame that arrives whole as a view of its chunk, without copying it', () => {
    const chunk = Buffer.from('02abcd', 'hex');
    const [decoded] = new FrameDecoder(10).push(chunk);
    expect(decoded?.buffer).to.equal(chunk.buffer);
    expect(decoded?.toString('hex')).to.equal('abcd');
  });

  it('accepts a frame of exactly the limit', () => {
    expect(decodeChunks([frame(Buffer.alloc(300))], 300)).to.have.length(1);
  });

  it('rejects a length prefix over the limit from the prefix alone, with no body sent', () => {
    const decoder = new FrameDecoder(300);
    expect(() => decoder.push(Buffer.from(varint(301))))
      .to.throw(ProtocolError, 'frame of 301 bytes is over the limit of 300 bytes')
      .with.property('code', 'FRAME_TOO_LARGE');
  });

  it('rejects a huge length prefix at its first byte past the limit', () => {
    // The prefix of a 2^62-byte frame: an error long before the prefix is complete.
    const decoder = new FrameDecoder(65536);
    expect(decoder.push(Buffer.from('ffff', 'hex'))).to.deep.equal([]);
    expect(() => decoder.push(Buffer.from('ff', 'hex')))
      .to.throw(ProtocolError, 'frame of more than 2097151 bytes')
      .with.property('code', 'FRAME_TOO_LARGE');
  });

  it('rejects a varint of more than ten bytes', () => {
    const decoder = new FrameDecoder(65536);
    expect(decoder.push(Buffer.alloc(9, 0x80))).to.deep.equal([]);
    expect(() => decoder.push(Buffer.of(0x80)))
      .to.throw(ProtocolError, 'length prefix is not a valid varint')
      .with.property('code', 'MALFORMED_LENGTH');
  });

  it('reports a stream that ends inside a frame or inside its prefix', () => {
    const inBody = new FrameDecoder(100);
    inBody.push(Buffer.from('05aabb', 'hex'));
    expect(() => inBody.end())
      .to.throw(ProtocolError, 'the stream ended inside a frame (2 of 5 bytes)')
      .with.property('code', 'TRUNCATED_FRAME');

    const inPrefix = new FrameDecoder(1000);
    inPrefix.push(Buffer.of(0x81));
    expect(() => inPrefix.end()).to.throw(ProtocolError, 'part of a length prefix');
  });

  it('ends cleanly after whole frames', () => {
    const decoder = new FrameDecoder(100);
    decoder.push(Buffer.from('01aa', 'hex'));
    expect(decoder.end()).to.deep.equal([]);
  });
});
