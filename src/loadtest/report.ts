import { LoadTestSummary, Rate } from './load-test';

function decimal(value: number, digits = 0): string {
  return value.toLocaleString('en-US', {
    minimumFractionDigits: digits,
    maximumFractionDigits: digits,
  });
}

function rateLine(label: string, what: string, { messages, seconds, messagesPerSecond }: Rate) {
  return `${label.padEnd(13)}${decimal(messages)} ${what} in ${decimal(seconds, 3)} s, ${decimal(messagesPerSecond)} messages/s`;
}

/** What the messages line says: echoes, or deliveries and echoes with receipts. */
function messagesLine(summary: LoadTestSummary): string {
  const {
    expectedMessages: expected,
    echoedMessages: echoed,
    deliveredMessages: delivered,
  } = summary;
  const counted =
    delivered > 0 || summary.stored
      ? `${decimal(delivered)} of ${decimal(expected)} delivered (${decimal(echoed)} echoed with a receipt)`
      : `${decimal(echoed)} of ${decimal(expected)} echoed`;
  const limit = summary.timedOut ? ' (stopped at the time limit)' : '';
  return `messages     ${counted} in ${decimal(summary.seconds, 3)} s${limit}`;
}

/** The summary of a load test as text, one aspect a line. */
export function formatSummary(summary: LoadTestSummary): string[] {
  const { latencyMicros: latency, stored, resumed } = summary;
  const lines = [
    `connections  ${decimal(summary.connections)}, all handshaken in ${decimal(summary.handshakeSeconds, 3)} s`,
    messagesLine(summary),
    ...(stored ? [rateLine('stored', 'sent to offline users', stored)] : []),
    ...(resumed ? [rateLine('resumed', 'delivered once they resumed', resumed)] : []),
    `throughput   ${decimal(summary.messagesPerSecond)} messages/s`,
    `latency      p50 ${decimal(latency.p50)} µs, p90 ${decimal(latency.p90)} µs, p99 ${decimal(latency.p99)} µs, max ${decimal(latency.max)} µs`,
    `errors       ${decimal(summary.errors)}`,
  ];
  return [...lines, ...summary.firstErrors.map((error) => `  ${error}`)];
}

/** A progress line: messages so far (`label`: echoed, delivered…) and the rate since the last line. */
export function formatProgress(
  label: string,
  done: number,
  expected: number,
  perSecond: number,
): string {
  const percent = expected > 0 ? Math.floor((100 * done) / expected) : 100;
  return `${decimal(done)} of ${decimal(expected)} messages ${label} (${percent}%), ${decimal(perSecond)}/s`;
}
