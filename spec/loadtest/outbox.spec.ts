import { expect } from 'chai';
import Long from 'long';
import { LatencyHistogram } from '../../src/loadtest/latency-histogram';
import { LoadMessages } from '../../src/loadtest/load-messages';
import { Outbox } from '../../src/loadtest/outbox';
import { framesIn } from './server-frames';

describe('Outbox', () => {
  const messages = new LoadMessages(Long.fromInt(1), Long.fromInt(2), 2);

  it('sends at most `window` unanswered, then more as answers come, up to `messages`', () => {
    const outbox = new Outbox(
      messages,
      { messages: 5, window: 2, size: 2 },
      new LatencyHistogram(),
      () => 0,
    );
    expect(framesIn(outbox.more()).map((frame) => frame.msg)).to.deep.equal(['.0', '.1']);
    expect(outbox.more()).to.equal(undefined);
    outbox.answer(1, 0);
    expect(framesIn(outbox.more()).map((frame) => frame.msg)).to.deep.equal(['.2']);
    outbox.answer(2, 0);
    expect(framesIn(outbox.more()).map((frame) => frame.msg)).to.deep.equal(['.3', '.4']);
    outbox.answer(2, 0);
    expect(outbox).to.include({ sent: 5, answered: 5, done: true });
    expect(outbox.more()).to.equal(undefined);
  });

  it('records each latency from sending to answer, in nanoseconds', () => {
    const latencies = new LatencyHistogram();
    // The clock is in milliseconds: all three are sent at 1 ms.
    const outbox = new Outbox(messages, { messages: 3, window: 3, size: 2 }, latencies, () => 1);
    outbox.more();
    outbox.answer(1, 1.002);
    outbox.answer(2, 1.005);
    expect(latencies.count).to.equal(3);
    expect(latencies.percentile(33)).to.be.closeTo(2000, 20);
    expect(latencies.max).to.be.closeTo(5000, 50);
  });
});
