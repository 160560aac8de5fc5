import Long from 'long';
import { chatMessageCodec } from '../protocol/chat-codec';
import { FrameDecoder } from '../protocol/frame-decoder';

const DIGITS = Buffer.from('0123456789abcdefghijklmnopqrstuvwxyz', 'latin1');
const PADDING = '.';

/** The fields of a chat message that a load test checks. */
export interface MessageFields {
  readonly from: Long;
  readonly to: Long;
  readonly msg: string;
}

/**
 * Writes `seq` in base 36 into `target[start, end)`, right-aligned and padded with dots, or
 * only its last digits where it does not fit.
 */
function writeSequenceNumber(target: Buffer, start: number, end: number, seq: number): void {
  let position = end;
  for (
    let rest = seq;
    position > start && (rest > 0 || position === end);
    rest = Math.floor(rest / 36)
  ) {
    target[--position] = DIGITS[rest % 36] ?? 0;
  }
  target.fill(PADDING, start, position);
}

/**
 * The frames one load-test client sends, from `from` to `to` (its own id for an echo). Each
 * message's text ends with its sequence number in base 36, so an echo or a delivery shows which
 * message it is. The client puts its own id in `from`, so the echo of a message to itself is
 * byte for byte the frame that was sent.
 */
export class LoadMessages {
  private readonly template: Buffer;
  /** A message's bytes, without its length prefix; its sequence number is rewritten per check. */
  private readonly expectedBody: Buffer;

  constructor(
    readonly from: Long,
    readonly to: Long,
    readonly size: number,
  ) {
    this.template = Buffer.from(
      chatMessageCodec().encode([{ from, to, msg: PADDING.repeat(size) }]),
    );
    const [body] = new FrameDecoder(Infinity).push(this.template);
    this.expectedBody = Buffer.from(body ?? []);
  }

  /** The text of message `seq`, as it is on the wire. */
  text(seq: number): string {
    const text = Buffer.alloc(this.size);
    writeSequenceNumber(text, 0, this.size, seq);
    return text.toString('latin1');
  }

  /** Frames `first` to `first + count - 1`, in one buffer to write at once. */
  frames(first: number, count: number): Buffer {
    const length = this.template.length;
    const batch = Buffer.allocUnsafe(length * count).fill(this.template);
    for (let i = 0, end = length; i < count; i++, end += length) {
      writeSequenceNumber(batch, end - this.size, end, first + i);
    }
    return batch;
  }

  /** Whether `body` (a frame without its length prefix) is exactly message `seq`. */
  isEcho(body: Buffer, seq: number): boolean {
    const expected = this.expectedBody;
    writeSequenceNumber(expected, expected.length - this.size, expected.length, seq);
    return body.equals(expected);
  }

  /** Whether a decoded message has the sender, addressee and text of message `seq`. */
  hasFields({ from, to, msg }: MessageFields, seq: number): boolean {
    return from.equals(this.from) && to.equals(this.to) && msg === this.text(seq);
  }
}
