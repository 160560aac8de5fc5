/**
 * A token bucket, as plain values: `rate` tokens a second flow in, at most `burst` are kept, and
 * each message takes one. A batch may take more than there are: the bucket goes below zero, and
 * the sender waits until it is back at zero.
 */
export interface TokenBucket {
  readonly tokens: number;
  /** When `tokens` was counted, in ms. */
  readonly at: number;
}

export interface BucketRule {
  /** Tokens a second. */
  readonly rate: number;
  readonly burst: number;
}

export function fullBucket(rule: BucketRule, now: number): TokenBucket {
  return { tokens: rule.burst, at: now };
}

/** The bucket after `count` messages at `now`, and how long their sender must wait, in ms. */
export function takeTokens(
  bucket: TokenBucket,
  count: number,
  now: number,
  rule: BucketRule,
): { readonly bucket: TokenBucket; readonly waitMs: number } {
  const refilled = Math.min(rule.burst, bucket.tokens + ((now - bucket.at) * rule.rate) / 1000);
  const tokens = refilled - count;
  const waitMs = tokens < 0 ? Math.ceil((-tokens * 1000) / rule.rate) : 0;
  return { bucket: { tokens, at: now }, waitMs };
}
