/**
 * Writing protobuf bytes by hand, where a message's bytes are copied rather than encoded again:
 * varints of lengths and small numbers, and short copies. No dependencies, so that the bench's
 * floor server writes its bytes exactly as the chat server does.
 */

/** Copies `source[start, end)` to `target` at `offset`: a loop, cheaper than `copy` for a few bytes. */
export function copyBytes(
  source: Buffer,
  start: number,
  end: number,
  target: Buffer,
  offset: number,
): number {
  if (end - start > 64) return offset + source.copy(target, offset, start, end);
  let at = offset;
  for (let i = start; i < end; i++) target[at++] = source[i] as number;
  return at;
}

/** The bytes of a varint holding `value` (a length: below 2^31). */
export function varintLength(value: number): number {
  let bytes = 1;
  for (let rest = value >>> 7; rest !== 0; rest >>>= 7) bytes++;
  return bytes;
}

/** Writes the varint of `value` (below 2^32) at `offset`; returns where it ends. */
export function writeVarint(target: Buffer, offset: number, value: number): number {
  let rest = value >>> 0;
  let at = offset;
  while (rest > 0x7f) {
    target[at++] = (rest & 0x7f) | 0x80;
    rest >>>= 7;
  }
  target[at++] = rest;
  return at;
}
