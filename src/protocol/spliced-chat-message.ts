import Long from 'long';
import { isUtf8 } from 'node:buffer';
import { copyBytes, varintLength, writeVarint } from './byte-writing';
import { MAX_VARINT_BYTES } from './frame-decoder';
import * as generated from './generated/chat';
import { ChatMessage, Receipt } from './messages';

/**
 * The tags of ChatMessage's fields, each one byte: `from`, `to` and `delivery` (varints), `msg`
 * and `receipt` (length-delimited).
 */
const FROM_TAG = 0x08;
const TO_TAG = 0x10;
const MSG_TAG = 0x1a;
const DELIVERY_TAG = 0x20;
const RECEIPT_TAG = 0x32;

/** The end of the varint at `start` in `bytes`, or -1 if it does not end within `end`. */
function varintEnd(bytes: Buffer, start: number, end: number): number {
  const last = Math.min(end, start + MAX_VARINT_BYTES);
  for (let i = start; i < last; i++) if ((bytes[i] as number) < 0x80) return i + 1;
  return -1;
}

/**
 * Whether the varint in `bytes[start, end)` is what an encoder writes for its value: no
 * trailing zero groups, and no bits past the 64th (which a decoder drops).
 */
function isCanonicalInt64(bytes: Buffer, start: number, end: number): boolean {
  const last = bytes[end - 1] as number;
  if (end - start === MAX_VARINT_BYTES) return last === 1;
  return last !== 0 || end - start === 1;
}

/** The bits of a canonical varint of at most 10 bytes, as int64 halves. */
function readInt64(bytes: Buffer, start: number, end: number): { low: number; high: number } {
  let low = 0;
  let high = 0;
  for (let i = start, shift = 0; i < end; i++, shift += 7) {
    const group = (bytes[i] as number) & 0x7f;
    if (shift < 28) low |= group << shift;
    else if (shift === 28) {
      low |= group << 28;
      high |= group >>> 4;
    } else high |= group << (shift - 32);
  }
  return { low: low | 0, high: high | 0 };
}

/** Whether `bytes[start, end)` is UTF-8; ASCII, the usual text, checked without a native call. */
function isUtf8Text(bytes: Buffer, start: number, end: number): boolean {
  for (let i = start; i < end; i++) {
    if ((bytes[i] as number) >= 0x80) return isUtf8(bytes.subarray(i, end));
  }
  return true;
}

/**
 * A ChatMessage that carries only `from`, `to` and `msg`, read straight from its frame: its
 * text stays bytes until someone asks for it, and its echo copies them. It reads as the
 * message protobufjs would decode from the same frame.
 */
export class ScannedChatMessage implements ChatMessage {
  private toLong: Long | undefined;
  private text: string | undefined;

  constructor(
    /** The frame, without its length prefix. */
    readonly frame: Buffer,
    /** Where `from`'s varint is in the frame, or an empty range when it is absent. */
    private readonly fromStart: number,
    private readonly fromEnd: number,
    readonly toLow: number,
    readonly toHigh: number,
    /** Where `to`'s varint is in the frame, or an empty range when it is absent (0). */
    readonly toStart: number,
    readonly toEnd: number,
    readonly msgStart: number,
    readonly msgEnd: number,
  ) {}

  /** What the client wrote; the server overwrites it, so only asked for by the curious. */
  get from(): Long {
    const { low, high } = readInt64(this.frame, this.fromStart, this.fromEnd);
    return Long.fromBits(low, high);
  }

  get to(): Long {
    this.toLong ??= Long.fromBits(this.toLow, this.toHigh);
    return this.toLong;
  }

  get msg(): string {
    this.text ??= this.frame.toString('utf8', this.msgStart, this.msgEnd);
    return this.text;
  }

  /** Whether `to` is 0, negative, or `low`/`high`: an echo only. */
  isEchoFor(low: number, high: number): boolean {
    const { toLow, toHigh } = this;
    return toHigh < 0 || (toLow === 0 && toHigh === 0) || (toLow === low && toHigh === high);
  }
}

/**
 * Reads a frame that holds only ChatMessage's `from`, `to` and `msg` (each once or more, the
 * last one counting, as protobuf has it), with canonical varints and a valid UTF-8 text; any
 * other frame, undefined, for protobufjs to decode (or refuse) as usual.
 */
export function scanChatMessage(frame: Buffer): ScannedChatMessage | undefined {
  const end = frame.length;
  let fromStart = 0;
  let fromEnd = 0;
  let toStart = 0;
  let toEnd = 0;
  let msgStart = 0;
  let msgEnd = 0;
  let at = 0;
  while (at < end) {
    const tag = frame[at++];
    if (tag === FROM_TAG || tag === TO_TAG) {
      const valueEnd = varintEnd(frame, at, end);
      if (valueEnd < 0) return undefined;
      if (tag === FROM_TAG) {
        fromStart = at;
        fromEnd = valueEnd;
      } else {
        if (!isCanonicalInt64(frame, at, valueEnd)) return undefined;
        toStart = at;
        toEnd = valueEnd;
      }
      at = valueEnd;
    } else if (tag === MSG_TAG) {
      const lengthEnd = varintEnd(frame, at, end);
      if (lengthEnd < 0 || lengthEnd - at > 4) return undefined;
      const length = readInt64(frame, at, lengthEnd).low >>> 0;
      if (length > end - lengthEnd) return undefined;
      msgStart = lengthEnd;
      msgEnd = lengthEnd + length;
      // Every text is checked, also one that a later one replaces, as protobufjs does.
      if (!isUtf8Text(frame, msgStart, msgEnd)) return undefined;
      at = msgEnd;
    } else {
      return undefined;
    }
  }
  const { low, high } = readInt64(frame, toStart, toEnd);
  // A `to` of 0 written out is the same message as none.
  const to = low === 0 && high === 0 ? { start: 0, end: 0 } : { start: toStart, end: toEnd };
  return new ScannedChatMessage(
    frame,
    fromStart,
    fromEnd,
    low,
    high,
    to.start,
    to.end,
    msgStart,
    msgEnd,
  );
}

/**
 * Bytes encoded once for each object they are made of: the server's receipts are a few shared
 * objects, and each session keeps its user's id as one Long.
 */
function encodedOnce<Key extends object>(encode: (key: Key) => Uint8Array): (key: Key) => Buffer {
  const encoded = new WeakMap<Key, Buffer>();
  return (key) => {
    let bytes = encoded.get(key);
    if (!bytes) {
      bytes = Buffer.from(encode(key));
      encoded.set(key, bytes);
    }
    return bytes;
  };
}

const encodedReceipt = encodedOnce((receipt: Receipt) =>
  generated.Receipt.encode(receipt).finish(),
);
/** The `from` field of a message from this id, tag and value. */
const encodedFrom = encodedOnce((from: Long) => generated.ChatMessage.encode({ from }).finish());

const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);

/** The 7-bit groups of a uint64, least significant first: what its varint holds. */
function uint64Groups(value: bigint): number[] {
  const groups: number[] = [];
  if (value <= MAX_SAFE) {
    let rest = Number(value);
    do {
      groups.push(rest % 128);
      rest = Math.floor(rest / 128);
    } while (rest > 0);
    return groups;
  }
  let rest = BigInt.asUintN(64, value);
  do {
    groups.push(Number(rest & 0x7fn));
    rest >>= 7n;
  } while (rest > 0n);
  return groups;
}

function writeGroups(target: Buffer, offset: number, groups: readonly number[]): number {
  let at = offset;
  const last = groups.length - 1;
  for (let i = 0; i < last; i++) target[at++] = (groups[i] as number) | 0x80;
  target[at++] = groups[last] as number;
  return at;
}

/** What the server adds to a scanned message besides its sender: a delivery number, or a receipt. */
export interface SplicedFields {
  readonly delivery?: bigint;
  readonly receipt?: Receipt;
}

/**
 * A scanned message on its way on, from `from`: back to its sender as an echo (with a receipt),
 * or to its recipient as a delivery (with its number); `to` and `msg` are copied as they came.
 * Its bytes are what protobufjs encodes for the same fields.
 */
export class SplicedChatMessage implements ChatMessage {
  readonly receipt: Receipt | null;
  private readonly fromBytes: Buffer;
  private readonly deliveryNumber: bigint | undefined;
  /** The delivery number's varint, as 7-bit groups: worked out once, counted and written. */
  private readonly deliveryGroups: readonly number[] | undefined;
  private readonly receiptBytes: Buffer | undefined;

  constructor(
    readonly from: Long,
    readonly of: ScannedChatMessage,
    { delivery, receipt }: SplicedFields = {},
  ) {
    this.fromBytes = encodedFrom(from);
    this.deliveryNumber = delivery;
    this.deliveryGroups = delivery ? uint64Groups(delivery) : undefined;
    this.receipt = receipt ?? null;
    this.receiptBytes = receipt ? encodedReceipt(receipt) : undefined;
  }

  get to(): Long {
    return this.of.to;
  }

  get msg(): string {
    return this.of.msg;
  }

  get delivery(): Long {
    return Long.fromBigInt(this.deliveryNumber ?? 0n, true);
  }

  /** The length of the message's bytes, without a length prefix. */
  get byteLength(): number {
    const { of, deliveryGroups, receiptBytes } = this;
    const textLength = of.msgEnd - of.msgStart;
    return (
      this.fromBytes.length +
      (of.toEnd > of.toStart ? 1 + of.toEnd - of.toStart : 0) +
      (textLength > 0 ? 1 + varintLength(textLength) + textLength : 0) +
      (deliveryGroups ? 1 + deliveryGroups.length : 0) +
      (receiptBytes ? 1 + varintLength(receiptBytes.length) + receiptBytes.length : 0)
    );
  }

  /** Writes the message, length-prefixed, at `offset`; returns where it ends. */
  writeFramed(target: Buffer, offset: number): number {
    return this.writeTo(target, writeVarint(target, offset, this.byteLength));
  }

  /** The message's bytes, without a length prefix. */
  bytes(): Buffer {
    const bytes = Buffer.allocUnsafe(this.byteLength);
    this.writeTo(bytes, 0);
    return bytes;
  }

  private writeTo(target: Buffer, offset: number): number {
    const { of, deliveryGroups, receiptBytes, fromBytes } = this;
    const { frame } = of;
    let at = copyBytes(fromBytes, 0, fromBytes.length, target, offset);
    if (of.toEnd > of.toStart) {
      target[at++] = TO_TAG;
      at = copyBytes(frame, of.toStart, of.toEnd, target, at);
    }
    if (of.msgEnd > of.msgStart) {
      target[at++] = MSG_TAG;
      at = writeVarint(target, at, of.msgEnd - of.msgStart);
      at = copyBytes(frame, of.msgStart, of.msgEnd, target, at);
    }
    if (deliveryGroups) {
      target[at++] = DELIVERY_TAG;
      at = writeGroups(target, at, deliveryGroups);
    }
    if (receiptBytes) {
      target[at++] = RECEIPT_TAG;
      at = writeVarint(target, at, receiptBytes.length);
      at = copyBytes(receiptBytes, 0, receiptBytes.length, target, at);
    }
    return at;
  }

  /** The length of the message with its length prefix. */
  get framedLength(): number {
    const length = this.byteLength;
    return varintLength(length) + length;
  }
}
