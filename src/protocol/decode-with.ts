import { Observable, Observer, OperatorFunction } from 'rxjs';
import { Codec, Decoder } from './codec';

/**
 * An observer of chunks that passes each batch they complete to `batches`: one batch per chunk
 * that completes any, so a chunk full of frames is handled in one pass. Bytes that are not
 * valid end it with their ProtocolError.
 */
export class DecodingObserver<T> implements Observer<Buffer> {
  private readonly decoder: Decoder<T>;

  constructor(
    codec: Codec<T>,
    private readonly batches: Observer<T[]>,
  ) {
    this.decoder = codec.decoder();
  }

  /** Whether a value begun in the chunks so far is not finished. */
  get partial(): boolean {
    return this.decoder.partial;
  }

  next(chunk: Buffer): void {
    let batch: T[];
    try {
      batch = this.decoder.push(chunk);
    } catch (error) {
      this.batches.error(error);
      return;
    }
    if (batch.length > 0) this.batches.next(batch);
  }

  error(error: unknown): void {
    this.batches.error(error);
  }

  complete(): void {
    let rest: T[];
    try {
      rest = this.decoder.end();
    } catch (error) {
      this.batches.error(error);
      return;
    }
    if (rest.length > 0) this.batches.next(rest);
    this.batches.complete();
  }
}

/** Decodes a stream of chunks into batches of values, as a DecodingObserver does. */
export function decodeWith<T>(codec: Codec<T>): OperatorFunction<Buffer, readonly T[]> {
  return (chunk$) =>
    new Observable<readonly T[]>((subscriber) =>
      chunk$.subscribe(new DecodingObserver(codec, subscriber)),
    );
}
