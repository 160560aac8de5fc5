import { expect } from 'chai';
import { LineDecoder } from '../../src/protocol/line-decoder';
import { ProtocolError } from '../../src/protocol/protocol-error';
import { everyChunking } from '../support/chunkings';

function decodeChunks(chunks: Buffer[], maxLineBytes = 100): string[] {
  const decoder = new LineDecoder(maxLineBytes);
  return [...chunks.flatMap((chunk) => decoder.push(chunk)), ...decoder.end()];
}

describe('LineDecoder', () => {
  it('gives the same lines for every way of cutting the input into chunks', () => {
    // "é" is two bytes and "😀" four, so some cuts fall inside a character.
    const input = Buffer.from('a\r\né\n\n😀\nend', 'utf8');
    let chunkings = 0;
    for (const chunks of everyChunking(input)) {
      expect(decodeChunks(chunks), chunks.map((c) => c.toString('hex')).join('|')).to.deep.equal([
        'a',
        'é',
        '',
        '😀',
        'end',
      ]);
      chunkings++;
    }
    expect(chunkings).to.equal(2 ** (input.length - 1));
  });

  it('returns every line of a chunk at once, in order', () => {
    expect(new LineDecoder(100).push(Buffer.from('one\ntwo\nthree\n'))).to.deep.equal([
      'one',
      'two',
      'three',
    ]);
  });

  it('drops only a carriage return that ends the line', () => {
    expect(decodeChunks([Buffer.from('a\rb\r\r\n')])).to.deep.equal(['a\rb\r']);
  });

  it('keeps an unterminated last line until the stream ends', () => {
    const decoder = new LineDecoder(100);
    expect(decoder.push(Buffer.from('no newline'))).to.deep.equal([]);
    expect(decoder.end()).to.deep.equal(['no newline']);
  });

  it('accepts a line of exactly the limit, with or without a carriage return', () => {
    const line = 'x'.repeat(10);
    expect(decodeChunks([Buffer.from(`${line}\r`), Buffer.from('\n')], 10)).to.deep.equal([line]);
    expect(decodeChunks([Buffer.from(`${line}\n`)], 10)).to.deep.equal([line]);
  });

  it('rejects a line over the limit as soon as it is known, before its newline comes', () => {
    const decoder = new LineDecoder(10);
    expect(decoder.push(Buffer.from('x'.repeat(11)))).to.deep.equal([]);
    expect(() => decoder.push(Buffer.from('x')))
      .to.throw(ProtocolError, 'line longer than the limit of 10 bytes')
      .with.property('code', 'LINE_TOO_LONG');
  });

  it('rejects a complete line over the limit', () => {
    expect(() => new LineDecoder(10).push(Buffer.from(`${'x'.repeat(11)}\n`)))
      .to.throw(ProtocolError)
      .with.property('code', 'LINE_TOO_LONG');
  });
});
