/**
 * How values of one type travel over a byte stream in one direction. A connection uses the
 * codec of what it receives to decode and the codec of what it sends to encode.
 */
export interface Codec<T> {
  /** A fresh decoder for one connection's bytes. */
  decoder(): Decoder<T>;
  /** The bytes of a batch of values, written to the socket at once. */
  encode(values: readonly T[]): Uint8Array;
}

/** Turns the chunks of one byte stream, split anywhere, into values. */
export interface Decoder<T> {
  /** The values this chunk completes, in order. Throws a ProtocolError on bytes that are not valid. */
  push(chunk: Uint8Array): T[];
  /** The stream has ended: what is left, or a ProtocolError if it ended inside a frame. */
  end(): T[];
  /** Whether the bytes of a value begun and not finished are held. */
  readonly partial: boolean;
}
