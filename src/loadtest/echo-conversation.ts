import * as generated from '../protocol/generated/chat';
import { EchoPlan } from './client-plan';
import { Conversation, Step } from './conversation';
import { LatencyHistogram } from './latency-histogram';
import { LoadMessages } from './load-messages';
import { describeFrame } from './message-description';
import { Outbox } from './outbox';

/** An echo in another encoding than ours is still right if its fields are. */
function sameFields(body: Buffer, messages: LoadMessages, seq: number): boolean {
  try {
    return messages.hasFields(generated.ChatMessage.decode(body), seq);
  } catch {
    return false;
  }
}

/**
 * A client of Assignment 2: it sends its messages to itself and checks that each echo is the
 * next message it sent, byte for byte (or field for field, if the server encodes differently).
 */
export class EchoConversation implements Conversation {
  private outbox: Outbox | undefined;

  constructor(
    private readonly plan: EchoPlan,
    private readonly latencies: LatencyHistogram,
    private readonly clock: () => number,
  ) {}

  greet({ id, secret }: generated.Handshake): Step {
    this.plan.greeted?.({ id, secret });
    const messages = new LoadMessages(id, id, this.plan.sends.size);
    this.outbox = new Outbox(messages, this.plan.sends, this.latencies, this.clock);
    return { ready: true };
  }

  start(): Step {
    return { write: this.outbox?.more() };
  }

  read(bodies: readonly Buffer[], now: number): Step {
    const outbox = this.outbox as Outbox;
    const { messages } = outbox;
    const mismatches: string[] = [];
    let seq = outbox.answered;
    for (const body of bodies) {
      if (seq === outbox.sent) {
        mismatches.push(`an echo for a message never sent: ${describeFrame(body)}`);
        continue;
      }
      if (!messages.isEcho(body, seq) && !sameFields(body, messages, seq)) {
        mismatches.push(`echo ${seq} is ${describeFrame(body)}, not "${messages.text(seq)}"`);
      }
      seq++;
    }
    const echoes = seq - outbox.answered;
    outbox.answer(echoes, now);
    return {
      checked: { echoes, deliveries: 0, mismatches },
      write: outbox.done ? undefined : outbox.more(),
    };
  }

  get done(): boolean {
    return this.outbox?.done ?? false;
  }

  progress(): string {
    return `${this.outbox?.answered ?? 0} of ${this.plan.sends.messages} echoes`;
  }
}
