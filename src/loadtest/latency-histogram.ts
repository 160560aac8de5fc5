/** Values below 2^EXACT_BITS are counted exactly; above, each power of two has 2^(EXACT_BITS-1) buckets. */
const EXACT_BITS = 8;
const EXACT = 2 ** EXACT_BITS;
const BUCKETS_PER_OCTAVE = EXACT / 2;

function bitLength(value: number): number {
  return value < 2 ** 32 ? 32 - Math.clz32(value) : 64 - Math.clz32(Math.floor(value / 2 ** 32));
}

/**
 * A latency histogram in the manner of HdrHistogram: constant memory and time per value,
 * whatever the count, and any percentile within 1% of the exact value (each bucket spans less
 * than 1/128 of its values). Values are whole non-negative numbers, such as nanoseconds.
 */
export class LatencyHistogram {
  private counts: number[] = [];
  private total = 0;
  private highest = 0;

  get count(): number {
    return this.total;
  }

  get max(): number {
    return this.highest;
  }

  record(value: number, times = 1): void {
    const index = LatencyHistogram.indexOf(Math.max(0, Math.round(value)));
    this.counts[index] = (this.counts[index] ?? 0) + times;
    this.total += times;
    if (value > this.highest) this.highest = Math.round(value);
  }

  add(other: LatencyHistogram): void {
    other.counts.forEach((count, index) => {
      this.counts[index] = (this.counts[index] ?? 0) + count;
    });
    this.total += other.total;
    this.highest = Math.max(this.highest, other.highest);
  }

  /** The value below which `percent` of the values fall (the top of its bucket), or 0 if empty. */
  percentile(percent: number): number {
    if (this.total === 0) return 0;
    const rank = Math.max(1, Math.ceil((percent / 100) * this.total));
    let seen = 0;
    for (let index = 0; index < this.counts.length; index++) {
      seen += this.counts[index] ?? 0;
      if (seen >= rank) return Math.min(LatencyHistogram.topOf(index), this.highest);
    }
    return this.highest;
  }

  private static indexOf(value: number): number {
    if (value < EXACT) return value;
    const shift = bitLength(value) - EXACT_BITS;
    return shift * BUCKETS_PER_OCTAVE + Math.floor(value / 2 ** shift);
  }

  private static topOf(index: number): number {
    if (index < EXACT) return index;
    const shift = Math.floor(index / BUCKETS_PER_OCTAVE) - 1;
    const mantissa = index - shift * BUCKETS_PER_OCTAVE;
    return (mantissa + 1) * 2 ** shift - 1;
  }
}
