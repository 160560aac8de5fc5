/** Every way to cut `bytes` into consecutive non-empty chunks: 2^(n-1) of them. */
export function* everyChunking(bytes: Uint8Array): Generator<Buffer[]> {
  const cuts = bytes.length - 1;
  if (cuts > 16) throw new Error(`${bytes.length} bytes have too many chunkings to try them all`);
  for (let mask = 0; mask < 2 ** Math.max(cuts, 0); mask++) {
    const chunks: Buffer[] = [];
    let start = 0;
    for (let cut = 1; cut <= cuts; cut++) {
      if (mask & (1 << (cut - 1))) {
        chunks.push(Buffer.from(bytes.subarray(start, cut)));
        start = cut;
      }
    }
    chunks.push(Buffer.from(bytes.subarray(start)));
    yield chunks;
  }
}

/** Every cut of `bytes` into two or three chunks, and one byte at a time. */
export function* everyCutInTwoOrThree(bytes: Uint8Array): Generator<Buffer[]> {
  const at = (start: number, end?: number) => Buffer.from(bytes.subarray(start, end));
  for (let first = 1; first < bytes.length; first++) {
    yield [at(0, first), at(first)];
    for (let second = first + 1; second < bytes.length; second++) {
      yield [at(0, first), at(first, second), at(second)];
    }
  }
  yield Array.from(bytes, (byte) => Buffer.of(byte));
}
