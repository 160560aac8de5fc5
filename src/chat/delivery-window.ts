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

/**
 * What to do with a delivery that was just stored: send it if it is the next one and there is
 * room; skip it if it was sent already; otherwise leave it in the store, and read the store
 * when there is room ('fetch'), since it is behind others that are not sent yet.
 */
export function onDelivery(
  window: DeliveryWindow,
  delivery: bigint,
  limited: boolean,
): { readonly action: DeliveryAction; readonly window: DeliveryWindow } {
  const known = delivery > window.known ? delivery : window.known;
  if (delivery <= window.sent) return { action: 'skip', window };
  if (!hasRoom(window, limited)) return { action: 'skip', window: { ...window, known } };
  if (delivery === window.sent + 1n) {
    return { action: 'send', window: { ...window, sent: delivery, known } };
  }
  return { action: 'fetch', window: { ...window, known } };
}

/** How many deliveries to read from the store now: 0 when none wait or there is no room. */
export function toFetch(window: DeliveryWindow, limited: boolean, page: number): number {
  if (window.known <= window.sent || !hasRoom(window, limited)) return 0;
  const room = limited ? MAX_IN_FLIGHT - (window.sent - window.acknowledged) : BigInt(page);
  const waiting = window.known - window.sent;
  const count = [room, waiting, BigInt(page)].reduce((a, b) => (a < b ? a : b));
  return Number(count);
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
