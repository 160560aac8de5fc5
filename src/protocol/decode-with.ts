import { concat, defer, filter, map, Observable, of, OperatorFunction } from 'rxjs';
import { Codec } from './codec';

/**
 * Decodes a stream of chunks into batches: one batch of values per chunk that completes any,
 * so a chunk full of frames is handled in one pass. A ProtocolError ends the stream with an error.
 */
export function decodeWith<T>(codec: Codec<T>): OperatorFunction<Buffer, readonly T[]> {
  return (chunk$: Observable<Buffer>) =>
    defer(() => {
      const decoder = codec.decoder();
      return concat(
        chunk$.pipe(map((chunk) => decoder.push(chunk))),
        defer(() => of(decoder.end())),
      ).pipe(filter((batch) => batch.length > 0));
    });
}
