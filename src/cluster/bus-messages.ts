import Long from 'long';
import { Delivered } from '../chat/chat-session';
import { STOP_REASONS, StopReason, UserId } from '../server/service';

/** A signal that travels between nodes: an announcement to all, or an order to stop one user. */
export type NodeSignal =
  | { readonly announce: string; readonly to?: undefined }
  | { readonly stop: StopReason; readonly to: UserId };

/** What a node hears from the others: deliveries for one of its users, or a signal. */
export type BusMessage =
  | { readonly deliver: Delivered; readonly to: UserId }
  | { readonly signal: NodeSignal; readonly origin: string };

type Entry = [recipient: string, delivery: string, from: string, text: string];

const DECIMAL = /^-?\d{1,20}$/;

function isEntry(value: unknown): value is Entry {
  return (
    Array.isArray(value) &&
    value.length === 4 &&
    value.every((item) => typeof item === 'string') &&
    DECIMAL.test(value[0] as string) &&
    DECIMAL.test(value[1] as string) &&
    DECIMAL.test(value[2] as string)
  );
}

/**
 * The deliveries a store's write published to a node (a JSON list of [recipient, delivery,
 * from, text], in order), one message for each run of one recipient's deliveries.
 */
export function decodeDeliveries(payload: string): BusMessage[] {
  const entries: unknown = JSON.parse(payload);
  if (!Array.isArray(entries) || !entries.every(isEntry)) {
    throw new Error('not a list of deliveries');
  }
  const messages: {
    deliver: { to: Long; deliveries: Delivered['deliveries'][number][] };
    to: UserId;
  }[] = [];
  for (const [recipient, delivery, from, msg] of entries) {
    const to = BigInt(recipient);
    const item = { delivery: BigInt(delivery), from: BigInt(from), msg, redelivered: false };
    const last = messages.at(-1);
    if (last && last.to === to) last.deliver.deliveries.push(item);
    else messages.push({ to, deliver: { to: Long.fromString(recipient), deliveries: [item] } });
  }
  return messages;
}

/** A signal for the other nodes, as JSON: who sent it, what, and to whom. */
export function encodeSignal(origin: string, signal: NodeSignal): string {
  return JSON.stringify(
    'announce' in signal
      ? { origin, announce: signal.announce }
      : { origin, stop: signal.stop, to: signal.to.toString() },
  );
}

function isStopReason(value: unknown): value is StopReason {
  return typeof value === 'string' && Object.hasOwn(STOP_REASONS, value);
}

export function decodeSignal(payload: string): BusMessage {
  const fields: unknown = JSON.parse(payload);
  if (typeof fields !== 'object' || fields === null) throw new Error('not a signal');
  const { origin, announce, stop, to } = fields as Record<string, unknown>;
  if (typeof origin !== 'string') throw new Error('a signal without its origin');
  if (typeof announce === 'string') return { origin, signal: { announce } };
  if (isStopReason(stop) && typeof to === 'string' && DECIMAL.test(to)) {
    return { origin, signal: { stop, to: BigInt(to) } };
  }
  throw new Error('not a signal');
}
