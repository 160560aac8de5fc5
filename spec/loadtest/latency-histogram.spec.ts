import { expect } from 'chai';
import { LatencyHistogram } from '../../src/loadtest/latency-histogram';

/** A fixed sequence of pseudo-random numbers (a linear congruential generator), so the test is the same every run. */
function* pseudoRandom(seed: number): Generator<number> {
  for (let state = seed; ;) {
    state = (state * 1103515245 + 12345) % 2 ** 31;
    yield state / 2 ** 31;
  }
}

function exactPercentile(sorted: number[], percent: number): number {
  return sorted[Math.max(0, Math.ceil((percent / 100) * sorted.length) - 1)] ?? 0;
}

describe('LatencyHistogram', () => {
  it('gives every percentile within 1% of the exact value, over a wide range', () => {
    const histogram = new LatencyHistogram();
    const values: number[] = [];
    const random = pseudoRandom(42);
    for (let i = 0; i < 100_000; i++) {
      // Log-uniform from 1 ns to about 17 minutes: every bucket size is used.
      const value = Math.floor(Math.exp((random.next().value as number) * Math.log(1e12)));
      values.push(value);
      histogram.record(value);
    }
    values.sort((a, b) => a - b);
    for (const percent of [1, 10, 50, 90, 99, 99.9, 100]) {
      const exact = exactPercentile(values, percent);
      const estimate = histogram.percentile(percent);
      expect(Math.abs(estimate - exact), `p${percent}: ${estimate} for ${exact}`).to.be.at.most(
        Math.max(1, exact * 0.01),
      );
    }
    expect(histogram.max).to.equal(values.at(-1));
    expect(histogram.count).to.equal(100_000);
  });

  it('counts values below 256 exactly', () => {
    const histogram = new LatencyHistogram();
    for (let value = 0; value < 256; value++) histogram.record(value);
    expect(histogram.percentile(50)).to.equal(127);
    expect(histogram.percentile(100)).to.equal(255);
  });

  it('records a value many times at once, and adds histograms together', () => {
    const a = new LatencyHistogram();
    a.record(1000, 3);
    const b = new LatencyHistogram();
    b.record(10, 1);
    b.add(a);
    expect(b.count).to.equal(4);
    expect(b.percentile(25)).to.equal(10);
    expect(b.percentile(50)).to.be.within(1000, 1008);
    expect(b.max).to.equal(1000);
  });

  it('answers 0 when empty', () => {
    expect(new LatencyHistogram().percentile(99)).to.equal(0);
  });
});
