import { Decoder } from './codec';
import { ProtocolError } from './protocol-error';

/** A varint encodes 7 bits a byte; a 64-bit value takes at most 10 bytes. */
export const MAX_VARINT_BYTES = 10;
const EMPTY = Buffer.alloc(0);

/**
 * Splits a byte stream into frames, each a varint length prefix and that many bytes (what
 * protobufjs `encodeDelimited`, Java `writeDelimitedTo` and Go `protodelim` write).
 *
 * A frame that arrives whole in one chunk is returned as a view of that chunk, without a copy.
 * A frame split across chunks is kept as the bytes received so far and joined once complete, so
 * memory follows what a peer has actually sent, never what its length prefix announces.
 */
export class FrameDecoder implements Decoder<Buffer> {
  private lengthSoFar = 0;
  private lengthBytesRead = 0;
  /** The length of the frame whose bytes are being collected, or -1 while reading a prefix. */
  private frameLength = -1;
  /** The bytes of a frame split across chunks, made only when one is. */
  private parts: Buffer[] | undefined;
  private partsBytes = 0;

  constructor(private readonly maxFrameBytes: number) {}

  push(chunk: Uint8Array): Buffer[] {
    const bytes = Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    const frames: Buffer[] = [];
    let offset = 0;
    while (offset < bytes.length) {
      if (this.frameLength < 0) {
        offset = this.readLengthByte(bytes, offset);
        if (this.frameLength === 0) this.emit(frames, EMPTY);
      } else {
        offset = this.readBody(bytes, offset, frames);
      }
    }
    return frames;
  }

  get partial(): boolean {
    return this.frameLength >= 0 || this.lengthBytesRead > 0;
  }

  end(): Buffer[] {
    if (this.partial) {
      const received =
        this.frameLength < 0
          ? 'part of a length prefix'
          : `${this.partsBytes} of ${this.frameLength} bytes`;
      throw new ProtocolError('TRUNCATED_FRAME', `the stream ended inside a frame (${received})`);
    }
    return [];
  }

  private readLengthByte(bytes: Buffer, offset: number): number {
    const byte = bytes[offset] as number;
    this.lengthSoFar += (byte & 0x7f) * 2 ** (7 * this.lengthBytesRead);
    this.lengthBytesRead += 1;
    if (this.lengthSoFar > this.maxFrameBytes) {
      const size = byte & 0x80 ? `more than ${this.lengthSoFar}` : `${this.lengthSoFar}`;
      throw new ProtocolError(
        'FRAME_TOO_LARGE',
        `frame of ${size} bytes is over the limit of ${this.maxFrameBytes} bytes`,
      );
    }
    if (byte & 0x80) {
      if (this.lengthBytesRead === MAX_VARINT_BYTES) {
        throw new ProtocolError('MALFORMED_LENGTH', 'length prefix is not a valid varint');
      }
    } else {
      this.frameLength = this.lengthSoFar;
      this.lengthSoFar = 0;
      this.lengthBytesRead = 0;
    }
    return offset + 1;
  }

  private readBody(bytes: Buffer, offset: number, frames: Buffer[]): number {
    const missing = this.frameLength - this.partsBytes;
    const available = bytes.length - offset;
    if (this.partsBytes === 0 && available >= missing) {
      this.emit(frames, bytes.subarray(offset, offset + missing));
      return offset + missing;
    }
    const taken = Math.min(missing, available);
    // A copy, so that a partial frame does not keep the whole chunk it came in alive.
    const parts = (this.parts ??= []);
    parts.push(Buffer.from(bytes.subarray(offset, offset + taken)));
    this.partsBytes += taken;
    if (this.partsBytes === this.frameLength)
      this.emit(frames, Buffer.concat(parts, this.frameLength));
    return offset + taken;
  }

  private emit(frames: Buffer[], frame: Buffer): void {
    frames.push(frame);
    this.frameLength = -1;
    this.parts = undefined;
    this.partsBytes = 0;
  }
}
