import { LoadPlan } from './client-plan';
import { LatencyHistogram } from './latency-histogram';
import { LoadMessages } from './load-messages';

/**
 * The messages one client sends, at most `window` unanswered at a time, and when each was sent:
 * its answers (echoes) come in the order the messages went out, and each one's latency, from
 * sending to its answer, goes into `latencies`, in nanoseconds.
 */
export class Outbox {
  private readonly sentAt: Float64Array;
  private sentCount = 0;
  private answeredCount = 0;

  constructor(
    readonly messages: LoadMessages,
    private readonly plan: LoadPlan,
    private readonly latencies: LatencyHistogram,
    private readonly clock: () => number,
  ) {
    this.sentAt = new Float64Array(Math.max(1, plan.window));
  }

  /** Messages sent so far. */
  get sent(): number {
    return this.sentCount;
  }

  /** Messages answered so far: the sequence number of the next answer. */
  get answered(): number {
    return this.answeredCount;
  }

  get done(): boolean {
    return this.answeredCount === this.plan.messages;
  }

  /** The frames of as many more messages as the window has room for, sent now; undefined when none. */
  more(): Buffer | undefined {
    const { plan, sentAt } = this;
    const first = this.sentCount;
    const count = Math.min(plan.window - (first - this.answeredCount), plan.messages - first);
    if (count <= 0) return undefined;
    const now = this.clock();
    for (let seq = first; seq < first + count; seq++) sentAt[seq % sentAt.length] = now;
    this.sentCount += count;
    return this.messages.frames(first, count);
  }

  /** The next `count` messages were answered at `now` (the caller checks there were that many unanswered). */
  answer(count: number, now: number): void {
    const { sentAt } = this;
    // Messages sent together share a send time: their latencies are recorded in one go.
    let runSentAt = NaN;
    let runLength = 0;
    const end = this.answeredCount + count;
    for (let seq = this.answeredCount; seq < end; seq++) {
      const at = sentAt[seq % sentAt.length] ?? now;
      if (at !== runSentAt) {
        if (runLength > 0) this.latencies.record((now - runSentAt) * 1e6, runLength);
        runSentAt = at;
        runLength = 0;
      }
      runLength++;
    }
    if (runLength > 0) this.latencies.record((now - runSentAt) * 1e6, runLength);
    this.answeredCount = end;
  }
}
