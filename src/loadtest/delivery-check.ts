import { LoadMessages, MessageFields } from './load-messages';
import { describeMessage } from './message-description';

/**
 * What one client is delivered, checked as it comes: every message its sender sends it, each
 * once, in the order sent. Deliveries are told apart by their numbers: one whose number was
 * seen before is a redelivery and is dropped; every new one must be the sender's next message.
 */
export class DeliveryCheck {
  private highest = 0n;
  private acknowledged = 0n;
  private receivedCount = 0;

  /** `expected`: the sender's messages, from it to this client; `count` of them. */
  constructor(
    private readonly expected: LoadMessages,
    private readonly count: number,
  ) {}

  /** New deliveries so far, right or wrong. */
  get received(): number {
    return this.receivedCount;
  }

  get complete(): boolean {
    return this.receivedCount === this.count;
  }

  /** The same check, before anything was delivered, for `count` messages instead. */
  expecting(count: number): DeliveryCheck {
    return new DeliveryCheck(this.expected, count);
  }

  /** Checks delivery number `delivery`: undefined when it is right or a redelivery, else what is wrong. */
  take(delivery: bigint, message: MessageFields): string | undefined {
    if (delivery <= this.highest) return undefined;
    this.highest = delivery;
    const seq = this.receivedCount;
    if (seq === this.count) {
      return `delivery ${delivery} is one more than the ${this.count} expected`;
    }
    this.receivedCount += 1;
    if (this.expected.hasFields(message, seq)) return undefined;
    const expected = `message ${seq} from ${this.expected.from.toString()}: "${this.expected.text(seq)}"`;
    return `delivery ${delivery} is ${describeMessage(message)}, not ${expected}`;
  }

  /** The delivery number to acknowledge now, cumulatively: the highest seen, once. */
  ackDue(): bigint | undefined {
    if (this.highest <= this.acknowledged) return undefined;
    this.acknowledged = this.highest;
    return this.highest;
  }
}
