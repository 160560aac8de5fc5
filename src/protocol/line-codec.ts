import { Codec } from './codec';
import { LineDecoder } from './line-decoder';

export const DEFAULT_MAX_LINE_BYTES = 65536;

/** Text lines, each ended by `\n` on the wire (Assignment 1's protocol, and telnet's). */
export function lineCodec(maxLineBytes = DEFAULT_MAX_LINE_BYTES): Codec<string> {
  return {
    decoder: () => new LineDecoder(maxLineBytes),
    encode: (lines) => Buffer.from(lines.map((line) => `${line}\n`).join(''), 'utf8'),
  };
}
