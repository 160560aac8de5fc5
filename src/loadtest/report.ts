import { LoadTestSummary } from './load-test';

function decimal(value: number, digits = 0): string {
  return value.toLocaleString('en-US', {
    minimumFractionDigits: digits,
    maximumFractionDigits: digits,
  });
}

/** The summary of a load test as text, one aspect a line. */
export function formatSummary(summary: LoadTestSummary): string[] {
  const { latencyMicros: latency } = summary;
  const lines = [
    `connections  ${decimal(summary.connections)}, all handshaken in ${decimal(summary.handshakeSeconds, 3)} s`,
    `messages     ${decimal(summary.echoedMessages)} of ${decimal(summary.expectedMessages)} echoed in ${decimal(summary.seconds, 3)} s${summary.timedOut ? ' (stopped at the time limit)' : ''}`,
    `throughput   ${decimal(summary.messagesPerSecond)} messages/s`,
    `latency      p50 ${decimal(latency.p50)} µs, p90 ${decimal(latency.p90)} µs, p99 ${decimal(latency.p99)} µs, max ${decimal(latency.max)} µs`,
    `errors       ${decimal(summary.errors)}`,
  ];
  return [...lines, ...summary.firstErrors.map((error) => `  ${error}`)];
}

/** A progress line: echoes so far and the rate since the last line. */
export function formatProgress(echoed: number, expected: number, perSecond: number): string {
  const percent = expected > 0 ? Math.floor((100 * echoed) / expected) : 100;
  return `${decimal(echoed)} of ${decimal(expected)} messages (${percent}%), ${decimal(perSecond)}/s`;
}
