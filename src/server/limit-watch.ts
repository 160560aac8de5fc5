import { ConnectionLimits } from './limits';
import { BucketRule, fullBucket, takeTokens, TokenBucket } from './token-bucket';

/** What a connection does when one of its limits is reached. */
export interface LimitActions {
  /** Reads nothing for `ms`: the sender is over its rate. */
  pause(ms: number): void;
  /** Whether the connection reads now: a frame cannot be finished while it does not. */
  readonly readingNow: boolean;
  /** The first time the sender is slowed down: says so to the log and to the client. */
  slowedDown(message: string): void;
  /** Nothing came for the idle timeout. */
  idle(message: string): void;
  /** A frame was begun and not finished in time. */
  unfinishedFrame(message: string): void;
}

/**
 * The limits of one connection: its rate (a token bucket), its idle timeout and the bound on an
 * unfinished frame. Its timers are armed only while there is something to time, and re-armed
 * lazily, so a busy connection costs no timer work a message.
 */
export class LimitWatch {
  private readonly rule: BucketRule | undefined;
  private bucket: TokenBucket | undefined;
  private slowed = false;
  private lastInputAt: number;
  private idleTimer: NodeJS.Timeout | undefined;
  private frameTimer: NodeJS.Timeout | undefined;
  /** Frames completed so far, to tell a frame that never ends from one that ended. */
  private frames = 0;

  constructor(
    private readonly limits: ConnectionLimits,
    private readonly actions: LimitActions,
    private readonly now: () => number,
  ) {
    this.lastInputAt = now();
    if (limits.maxMsgsPerSec > 0) {
      this.rule = { rate: limits.maxMsgsPerSec, burst: Math.max(1, limits.msgsBurst) };
    }
  }

  start(): void {
    if (this.limits.idleTimeoutMs > 0) this.armIdle(this.limits.idleTimeoutMs);
  }

  /** Bytes came; `partial`: a frame is begun and not finished after them. */
  onChunk(partial: boolean): void {
    this.lastInputAt = this.now();
    if (this.limits.frameTimeoutMs <= 0) return;
    if (!partial) {
      clearTimeout(this.frameTimer);
      this.frameTimer = undefined;
    } else if (this.frameTimer === undefined) {
      this.armFrame(this.frames);
    }
  }

  /** `count` messages came. */
  onMessages(count: number): void {
    this.frames += count;
    if (!this.rule) return;
    const now = this.now();
    const { bucket, waitMs } = takeTokens(
      this.bucket ?? fullBucket(this.rule, now),
      count,
      now,
      this.rule,
    );
    this.bucket = bucket;
    if (waitMs <= 0) return;
    this.actions.pause(waitMs);
    if (this.slowed) return;
    this.slowed = true;
    this.actions.slowedDown(
      `more than ${this.rule.rate} messages a second: reading paused for ${waitMs} ms, and again whenever it is over`,
    );
  }

  /** Stops its timers: the connection has ended. */
  unsubscribe(): void {
    clearTimeout(this.idleTimer);
    clearTimeout(this.frameTimer);
  }

  private armIdle(ms: number): void {
    this.idleTimer = setTimeout(() => {
      const quiet = this.now() - this.lastInputAt;
      const limit = this.limits.idleTimeoutMs;
      if (quiet >= limit) this.actions.idle(`nothing received for ${Math.round(quiet / 1000)} s`);
      else this.armIdle(limit - quiet);
    }, ms);
  }

  private armFrame(framesBefore: number): void {
    this.frameTimer = setTimeout(() => {
      this.frameTimer = undefined;
      // Frames ended since, the one unfinished now began later; or the connection is not
      // read (over its rate, or its peer does not read what it is sent): its own time, again.
      if (this.frames !== framesBefore || !this.actions.readingNow) this.armFrame(this.frames);
      else {
        const seconds = this.limits.frameTimeoutMs / 1000;
        this.actions.unfinishedFrame(`a frame was begun and not finished within ${seconds} s`);
      }
    }, this.limits.frameTimeoutMs);
  }
}
