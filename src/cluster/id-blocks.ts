import { Observable, Subscription } from 'rxjs';
import { UserId } from '../server/service';
import { IdBlock } from '../store/redis-store';

/** How many ids a node reserves at a time. */
export const ID_BLOCK_SIZE = 256;

/**
 * A node's supply of user ids: blocks reserved from the cluster's counter, so that ids are
 * unique across the cluster without a round trip per connection. The next block is asked for
 * when half of this one is given out; ids a node reserved and did not give out before it
 * stopped are never given out (ids are never reused).
 */
export class IdBlocks {
  private blocks: { next: UserId; last: UserId }[] = [];
  private reserving: Subscription | undefined;

  constructor(
    private readonly reserve: (count: number) => Observable<IdBlock>,
    private readonly size: number = ID_BLOCK_SIZE,
  ) {}

  /** The first block, before the node accepts anyone. */
  start(): Promise<void> {
    return new Promise((resolve, reject) => {
      this.reserve(this.size).subscribe({
        next: (block) => {
          this.blocks.push({ next: block.first, last: block.last });
          resolve();
        },
        error: reject,
      });
    });
  }

  /** The next id; undefined when none is left and the cluster could not be asked for more. */
  take(): UserId | undefined {
    const block = this.blocks[0];
    if (!block) {
      this.reserveMore();
      return undefined;
    }
    const id = block.next;
    if (id === block.last) this.blocks.shift();
    else block.next = id + 1n;
    if (this.remaining() <= BigInt(Math.floor(this.size / 2))) this.reserveMore();
    return id;
  }

  stop(): void {
    this.reserving?.unsubscribe();
  }

  private remaining(): bigint {
    return this.blocks.reduce((sum, { next, last }) => sum + (last - next + 1n), 0n);
  }

  private reserveMore(): void {
    if (this.reserving && !this.reserving.closed) return;
    this.reserving = this.reserve(this.size).subscribe({
      next: (block) => this.blocks.push({ next: block.first, last: block.last }),
      error: () => undefined,
    });
  }
}
