import { expect } from 'chai';
import fc from 'fast-check';
import { fullBucket, takeTokens } from '../../src/server/token-bucket';

describe('takeTokens', () => {
  const rule = { rate: 100, burst: 10 };

  it('lets a burst through at once, then makes the sender wait for what it took beyond it', () => {
    const start = fullBucket(rule, 0);
    const burst = takeTokens(start, 10, 0, rule);
    expect(burst.waitMs).to.equal(0);
    const over = takeTokens(burst.bucket, 5, 0, rule);
    // Five tokens at 100 a second: 50 ms.
    expect(over.waitMs).to.equal(50);
    // Waited out, the bucket is at zero again and one more waits 10 ms.
    expect(takeTokens(over.bucket, 1, 50, rule).waitMs).to.equal(10);
  });

  it('refills at the rate, never beyond the burst', () => {
    const empty = takeTokens(fullBucket(rule, 0), 10, 0, rule).bucket;
    expect(takeTokens(empty, 5, 50, rule).waitMs).to.equal(0);
    expect(takeTokens(empty, 11, 10_000, rule).waitMs).to.equal(10);
  });

  it('holds a sender to the rate over any sequence of batches', () => {
    fc.assert(
      fc.property(
        fc.array(fc.record({ count: fc.integer({ min: 1, max: 50 }), gap: fc.nat(200) }), {
          minLength: 1,
          maxLength: 50,
        }),
        (batches) => {
          // A sender that waits as told: in any span, it gets at most burst + rate * span through.
          let bucket = fullBucket(rule, 0);
          let now = 0;
          let sent = 0;
          for (const { count, gap } of batches) {
            now += gap;
            const taken = takeTokens(bucket, count, now, rule);
            bucket = taken.bucket;
            sent += count;
            now += taken.waitMs;
            expect(sent).to.be.at.most(rule.burst + (rule.rate * now) / 1000 + 1e-9);
          }
        },
      ),
    );
  });
});
