import Long from 'long';
import { Delivered } from '../chat/chat-session';
import { parseInt64 } from '../protocol/messages';
import { STOP_REASONS, StopReason, UserId } from '../server/service';
import { StoredDelivery } from '../store/chat-store';

/** A signal that travels between nodes: an announcement to all, or an order to stop one user. */
export type NodeSignal =
  | { readonly announce: string; readonly to?: undefined }
  | { readonly stop: StopReason; readonly to: UserId };

/** What a node hears from the others: deliveries for one of its users, or a signal. */
export type BusMessage =
  | { readonly deliver: Delivered; readonly to: UserId }
  | { readonly signal: NodeSignal; readonly origin: string };

/** A run of deliveries as a store's write publishes it: to whom, the first number, from whom, the texts. */
type Entry = [recipient: string, first: string, from: string, texts: string[]];

const MAX_UINT64 = 2n ** 64n - 1n;

/** A user id as decimal text, exactly, or undefined when it is no int64. */
function userId(text: unknown): UserId | undefined {
  return typeof text === 'string' ? parseInt64(text)?.toBigInt() : undefined;
}

function isEntry(value: unknown): value is Entry {
  if (!Array.isArray(value) || value.length !== 4) return false;
  const [recipient, first, from, texts] = value as unknown[];
  return (
    userId(recipient) !== undefined &&
    userId(from) !== undefined &&
    typeof first === 'string' &&
    /^[1-9]\d{0,19}$/.test(first) &&
    Array.isArray(texts) &&
    texts.length > 0 &&
    texts.every((text) => typeof text === 'string') &&
    BigInt(first) + BigInt(texts.length) - 1n <= MAX_UINT64
  );
}

/**
 * The deliveries a store's write published to a node (a JSON list of runs, each [recipient,
 * first delivery, sender, texts], in order), one message for each recipient's consecutive runs.
 */
export function decodeDeliveries(payload: string): BusMessage[] {
  const entries: unknown = JSON.parse(payload);
  if (!Array.isArray(entries) || !entries.every(isEntry)) {
    throw new Error('not a list of deliveries');
  }
  const messages: { deliver: { to: Long; deliveries: StoredDelivery[] }; to: UserId }[] = [];
  for (const [recipient, first, sender, texts] of entries) {
    const to = BigInt(recipient);
    const from = BigInt(sender);
    const start = BigInt(first);
    const run = texts.map((msg, index) => ({
      delivery: start + BigInt(index),
      from,
      msg,
      redelivered: false,
    }));
    const last = messages.at(-1);
    if (last && last.to === to) last.deliver.deliveries.push(...run);
    else messages.push({ to, deliver: { to: Long.fromString(recipient), deliveries: run } });
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
  const id = userId(to);
  if (isStopReason(stop) && id !== undefined) return { origin, signal: { stop, to: id } };
  throw new Error('not a signal');
}
