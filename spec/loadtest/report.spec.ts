import { expect } from 'chai';
import { LoadTestSummary } from '../../src/loadtest/load-test';
import { formatProgress, formatSummary } from '../../src/loadtest/report';

const summary: LoadTestSummary = {
  connections: 200,
  handshakeSeconds: 0.0312,
  expectedMessages: 20_000,
  echoedMessages: 20_000,
  deliveredMessages: 0,
  seconds: 0.5,
  messagesPerSecond: 40_000,
  latencyMicros: { p50: 100, p90: 200, p99: 300, max: 1234 },
  errors: 0,
  firstErrors: [],
  timedOut: false,
};

describe('formatSummary', () => {
  it('says how many echoes came, in echo mode', () => {
    expect(formatSummary(summary)).to.deep.equal([
      'connections  200, all handshaken in 0.031 s',
      'messages     20,000 of 20,000 echoed in 0.500 s',
      'throughput   40,000 messages/s',
      'latency      p50 100 µs, p90 200 µs, p99 300 µs, max 1,234 µs',
      'errors       0',
    ]);
  });

  it('with direct messages offline, how many were delivered, and the store and resume rates apart', () => {
    const lines = formatSummary({
      ...summary,
      deliveredMessages: 19_999,
      stored: { messages: 20_000, seconds: 0.25, messagesPerSecond: 80_000 },
      resumed: { messages: 19_999, seconds: 0.25, messagesPerSecond: 79_996 },
      errors: 1,
      firstErrors: ['delivery 7 is …'],
      timedOut: true,
    });
    expect(lines.slice(1, 4)).to.deep.equal([
      'messages     19,999 of 20,000 delivered (20,000 echoed with a receipt) in 0.500 s (stopped at the time limit)',
      'stored       20,000 sent to offline users in 0.250 s, 80,000 messages/s',
      'resumed      19,999 delivered once they resumed in 0.250 s, 79,996 messages/s',
    ]);
    expect(lines.slice(-2)).to.deep.equal(['errors       1', '  delivery 7 is …']);
  });
});

describe('formatProgress', () => {
  it('says what is counted and how fast', () => {
    expect(formatProgress('stored', 500, 2000, 12_345.6)).to.equal(
      '500 of 2,000 messages stored (25%), 12,346/s',
    );
  });
});
