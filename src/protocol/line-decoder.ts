import { Decoder } from './codec';
import { ProtocolError } from './protocol-error';

const NEWLINE = 0x0a;
const CARRIAGE_RETURN = 0x0d;

/**
 * Splits a byte stream into lines ending in `\n`; a `\r` before it (as telnet sends) is dropped.
 * Bytes are kept until their line is complete, so a UTF-8 character split across chunks survives.
 * A line longer than `maxLineBytes` (without its ending) is a protocol error.
 */
export class LineDecoder implements Decoder<string> {
  private pending: Buffer[] = [];
  private pendingBytes = 0;

  constructor(private readonly maxLineBytes: number) {}

  push(chunk: Uint8Array): string[] {
    const bytes = Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    const lines: string[] = [];
    let start = 0;
    for (let end = bytes.indexOf(NEWLINE); end !== -1; end = bytes.indexOf(NEWLINE, start)) {
      lines.push(this.completeLine(bytes.subarray(start, end)));
      start = end + 1;
    }
    this.keep(bytes.subarray(start));
    return lines;
  }

  end(): string[] {
    return this.pendingBytes === 0 ? [] : [this.completeLine(Buffer.alloc(0))];
  }

  get partial(): boolean {
    return this.pendingBytes > 0;
  }

  private completeLine(tail: Buffer): string {
    const whole = this.pendingBytes === 0 ? tail : Buffer.concat([...this.pending, tail]);
    this.pending = [];
    this.pendingBytes = 0;
    const line = whole.at(-1) === CARRIAGE_RETURN ? whole.subarray(0, -1) : whole;
    this.checkLength(line.length);
    return line.toString('utf8');
  }

  private keep(partialLine: Buffer): void {
    if (partialLine.length === 0) return;
    this.pendingBytes += partialLine.length;
    // One byte of slack: the line may yet end in "\r\n".
    this.checkLength(this.pendingBytes - 1);
    this.pending.push(Buffer.from(partialLine));
  }

  private checkLength(lineBytes: number): void {
    if (lineBytes > this.maxLineBytes) {
      throw new ProtocolError(
        'LINE_TOO_LONG',
        `line longer than the limit of ${this.maxLineBytes} bytes`,
      );
    }
  }
}
