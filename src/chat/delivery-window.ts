/**
 * Which deliveries one connection has been sent and has acknowledged, as plain values. Delivery
 * numbers are 1, 2, 3, … per user, and a user's messages are sent in that order, so three
 * numbers say it all: what was acknowledged, what was sent, and the highest known to exist.
 */
export interface DeliveryWindow {
  /** Every delivery up to this one is acknowledged. */
  readonly acknowledged: bigint;
  /** The highest delivery sent on this connection (or acknowledged before it). */
  readonly sent: bigint;
  /** The highest delivery number known to exist: above `sent`, the store has more. */
  readonly known: bigint;
}

/** How many deliveries an acknowledging client may have unacknowledged at once. */
export const MAX_IN_FLIGHT = 1000n;

export function openWindow(acknowledged: bigint, last: bigint): DeliveryWindow {
  return { acknowledged, sent: acknowledged, known: last > acknowledged ? last : acknowledged };
}

/** Whether `limited` (an acknowledging client) has room for another delivery. */
function hasRoom(window: DeliveryWindow, limited: boolean): boolean {
  return !limited || window.sent - window.acknowledged < MAX_IN_FLIGHT;
}

export type DeliveryAction = 'send' | 'skip' | 'fetch';

/** What to do with a run of deliveries just stored: which of them to send now, if any. */
export interface RunDecision {
  /** The first and last delivery numbers to send; none when `last` is below `first`. */
  readonly first: bigint;
  readonly last: bigint;
  /** Whether the store must be read first: the run is behind others that are not sent yet. */
  readonly fetch: boolean;
  readonly window: DeliveryWindow;
}

/**
 * What to do with the deliveries `first` … `first + count - 1`, just stored: send those that
 * come next, as far as there is room; skip those sent already; and when there is a gap before
 * them, send none and read the store instead ('fetch'), once there is room.
 */
export function onDeliveries(
  window: DeliveryWindow,
  first: bigint,
  count: bigint,
  limited: boolean,
): RunDecision {
  const last = first + count - 1n;
  const known = last > window.known ? last : window.known;
  const start = first > window.sent ? first : window.sent + 1n;
  const none = { first: start, last: start - 1n, fetch: false };
  if (start > last) return { ...none, window };
  if (!hasRoom(window, limited)) return { ...none, window: { ...window, known } };
  if (start > window.sent + 1n) return { ...none, fetch: true, window: { ...window, known } };
  const roomLeft = window.sent + (MAX_IN_FLIGHT - (window.sent - window.acknowledged));
  const end = limited && roomLeft < last ? roomLeft : last;
  return { first: start, last: end, fetch: false, window: { ...window, sent: end, known } };
}

/** `onDeliveries` for one delivery. */
export function onDelivery(
  window: DeliveryWindow,
  delivery: bigint,
  limited: boolean,
): { readonly action: DeliveryAction; readonly window: DeliveryWindow } {
  const decision = onDeliveries(window, delivery, 1n, limited);
  const action = decision.fetch ? 'fetch' : decision.last >= decision.first ? 'send' : 'skip';
  return { action, window: decision.window };
}

/** How many deliveries to read from the store now: 0 when none wait or there is no room. */
export function toFetch(window: DeliveryWindow, limited: boolean, page: number): number {
  if (window.known <= window.sent || !hasRoom(window, limited)) return 0;
  const room = limited ? MAX_IN_FLIGHT - (window.sent - window.acknowledged) : BigInt(page);
  const waiting = window.known - window.sent;
  const count = [room, waiting, BigInt(page)].reduce((a, b) => (a < b ? a : b));
  return Number(count);
}

/** The window once the store says its last delivery is `last`. */
export function heardOf(window: DeliveryWindow, last: bigint): DeliveryWindow {
  return last > window.known ? { ...window, known: last } : window;
}

/** The window once deliveries up to `last` have been sent. */
export function sentUpTo(window: DeliveryWindow, last: bigint): DeliveryWindow {
  if (last <= window.sent) return window;
  return { ...window, sent: last, known: last > window.known ? last : window.known };
}

export type AckError = 'unknown-delivery' | 'already-acknowledged';

/** A client acknowledges every delivery up to `upTo`: valid only for one sent and not yet acknowledged. */
export function acknowledge(
  window: DeliveryWindow,
  upTo: bigint,
): { readonly window: DeliveryWindow } | { readonly error: AckError } {
  if (upTo <= window.acknowledged) return { error: 'already-acknowledged' };
  if (upTo > window.sent) return { error: 'unknown-delivery' };
  return { window: { ...window, acknowledged: upTo } };
}
