import Long from 'long';
import * as generated from '../protocol/generated/chat';
import { NoticeCode, NoticeKind, ReceiptStatus } from '../protocol/messages';
import { DirectPlan } from './client-plan';
import { ackFrame, helloFrame, resumeFrame } from './control-frames';
import { Conversation, Step } from './conversation';
import { DeliveryCheck } from './delivery-check';
import { LatencyHistogram } from './latency-histogram';
import { LoadMessages } from './load-messages';
import { describeMessage, describeNotice } from './message-description';
import { Outbox } from './outbox';

/** What the frames of one read came to. */
interface Reading {
  echoes: number;
  ready: boolean;
  readonly mismatches: string[];
}

function joined(writes: readonly (Buffer | undefined)[]): Buffer | undefined {
  const present = writes.filter((write): write is Buffer => write !== undefined);
  if (present.length <= 1) return present[0];
  return Buffer.concat(present);
}

/**
 * A client that sends direct messages and is delivered them: it says hello (as a new user, or
 * resuming an earlier one) and waits for the welcome, sends its messages to another user with
 * at most `window` unanswered, checks every echo and its receipt, checks every delivery and
 * acknowledges them, a read at a time. Latency is from sending a message to its receipt.
 */
export class DirectConversation implements Conversation {
  /** The user this connection speaks for: its handshake's, or the one it resumes. */
  private me: Long | undefined;
  private welcomed = false;
  private outbox: Outbox | undefined;
  private inbox: DeliveryCheck | undefined;

  constructor(
    private readonly plan: DirectPlan,
    private readonly latencies: LatencyHistogram,
    private readonly clock: () => number,
  ) {}

  greet({ id, secret }: generated.Handshake): Step {
    // A resuming client's handshake is a stand-in: it says hello when the work starts.
    if (this.plan.greeting.kind === 'resume') return { ready: true };
    this.me = id;
    this.plan.greeted?.({ id, secret });
    return { write: helloFrame() };
  }

  start(): Step {
    const { greeting, sends, receives } = this.plan;
    let hello: Buffer | undefined;
    if (greeting.kind === 'resume') {
      const credentials = greeting.as();
      this.me = credentials.id;
      hello = resumeFrame(credentials);
    }
    const me = this.me as Long;
    if (receives) {
      this.inbox = new DeliveryCheck(
        new LoadMessages(receives.from(), me, receives.size),
        receives.count,
      );
    }
    if (sends) {
      const messages = new LoadMessages(me, sends.to(), sends.plan.size);
      this.outbox = new Outbox(messages, sends.plan, this.latencies, this.clock);
    }
    return { write: joined([hello, this.outbox?.more()]) };
  }

  read(bodies: readonly Buffer[], now: number): Step {
    const reading: Reading = { echoes: 0, ready: false, mismatches: [] };
    const deliveredBefore = this.inbox?.received ?? 0;
    for (const body of bodies) {
      let message: generated.ChatMessage;
      try {
        message = generated.ChatMessage.decode(body);
      } catch (error) {
        const reason = error instanceof Error ? error.message : String(error);
        reading.mismatches.push(`an undecodable frame (${reason})`);
        continue;
      }
      if (message.notice) this.hear(message.notice, reading);
      else if (!message.delivery.isZero()) this.receive(message, reading);
      else this.checkEcho(message, reading);
    }
    this.outbox?.answer(reading.echoes, now);
    const upTo = this.inbox?.ackDue();
    return {
      ready: reading.ready,
      checked: {
        echoes: reading.echoes,
        deliveries: (this.inbox?.received ?? 0) - deliveredBefore,
        mismatches: reading.mismatches,
      },
      write: joined([upTo === undefined ? undefined : ackFrame(upTo), this.outbox?.more()]),
    };
  }

  get done(): boolean {
    return (
      this.welcomed &&
      (this.outbox?.done ?? this.plan.sends === undefined) &&
      (this.inbox?.complete ?? this.plan.receives === undefined)
    );
  }

  progress(): string {
    const parts = [];
    if (this.plan.sends) {
      parts.push(`${this.outbox?.answered ?? 0} of ${this.plan.sends.plan.messages} echoes`);
    }
    if (this.plan.receives) {
      parts.push(`${this.inbox?.received ?? 0} of ${this.plan.receives.count} deliveries`);
    }
    return this.welcomed ? parts.join(' and ') : 'its hello, before the welcome';
  }

  /** A notice: the welcome the hello waits for, or anything else the server has to say, an error. */
  private hear(notice: generated.Notice.$Properties, reading: Reading): void {
    const { greeting } = this.plan;
    const said = `the server said ${describeNotice(notice)}`;
    if (notice.kind !== NoticeKind.WELCOME || this.welcomed) {
      reading.mismatches.push(said);
      return;
    }
    this.welcomed = true;
    if (greeting.kind === 'new-user') {
      reading.ready = true;
      if (notice.code !== NoticeCode.NEW_USER) reading.mismatches.push(`${said}, not NEW_USER`);
      return;
    }
    const pending = Long.fromValue(notice.pending ?? 0).toBigInt();
    const id = Long.fromValue(notice.id ?? 0);
    if (
      notice.code !== NoticeCode.RESUMED ||
      !id.equals(this.me as Long) ||
      pending !== BigInt(greeting.pending)
    ) {
      reading.mismatches.push(
        `${said}, user ${id.toString()} with ${pending} pending; expected RESUMED, user ${this.me?.toString() ?? '?'} with ${greeting.pending} pending`,
      );
      // Fewer kept than sent (some were refused): each kept one is still checked, and no
      // delivery is waited for in vain. (Below a count of ours, it fits a number exactly.)
      if (pending < BigInt(greeting.pending)) this.inbox = this.inbox?.expecting(Number(pending));
    }
  }

  private receive(message: generated.ChatMessage, reading: Reading): void {
    if (!this.inbox || !this.welcomed) {
      reading.mismatches.push(`a delivery it was not to be sent: ${describeMessage(message)}`);
      return;
    }
    const mismatch = this.inbox.take(message.delivery.toBigInt(), message);
    if (mismatch !== undefined) reading.mismatches.push(mismatch);
  }

  private checkEcho(message: generated.ChatMessage, reading: Reading): void {
    const { outbox } = this;
    const seq = (outbox?.answered ?? 0) + reading.echoes;
    if (!outbox || seq === outbox.sent) {
      reading.mismatches.push(`an echo for a message never sent: ${describeMessage(message)}`);
      return;
    }
    reading.echoes += 1;
    const receipts = this.plan.sends?.receipts ?? [];
    const status = message.receipt?.status ?? ReceiptStatus.STATUS_UNSPECIFIED;
    if (outbox.messages.hasFields(message, seq) && receipts.includes(status)) return;
    const expected = receipts.map((receipt) => ReceiptStatus[receipt]).join(' or ');
    reading.mismatches.push(
      `echo ${seq} is ${describeMessage(message)}, not "${outbox.messages.text(seq)}" with a receipt ${expected}`,
    );
  }
}
