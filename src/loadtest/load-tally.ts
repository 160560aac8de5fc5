import { LoadClientEvent } from './load-client';

const ERRORS_KEPT = 10;

/** What the clients of one phase of a load test have done so far: the state of its `scan`. */
export interface Tally {
  readonly ready: number;
  /** Clients that failed before their handshake. */
  readonly unreachable: number;
  readonly finished: number;
  readonly echoed: number;
  readonly delivered: number;
  readonly errors: number;
  readonly firstErrors: readonly string[];
  readonly allReadyAt: number | undefined;
  readonly lastHeardAt: number;
  /** When the last echo or delivery came. */
  readonly lastMessageAt: number;
}

/** The first errors, as many as a report shows, of two lists. */
export function firstErrorsOf(first: readonly string[], second: readonly string[]): string[] {
  return [...first, ...second].slice(0, ERRORS_KEPT);
}

function withErrors(tally: Tally, reasons: readonly string[]): Tally {
  if (reasons.length === 0) return tally;
  return {
    ...tally,
    errors: tally.errors + reasons.length,
    firstErrors: firstErrorsOf(tally.firstErrors, reasons),
  };
}

function tallied(tally: Tally, happening: LoadClientEvent, now: number): Tally {
  const heard = { ...tally, lastHeardAt: now };
  switch (happening.type) {
    case 'ready':
      return { ...heard, ready: tally.ready + 1 };
    case 'checked': {
      const { echoes, deliveries, mismatches } = happening;
      const counted =
        echoes + deliveries === 0
          ? heard
          : {
              ...heard,
              echoed: tally.echoed + echoes,
              delivered: tally.delivered + deliveries,
              lastMessageAt: now,
            };
      return withErrors(counted, mismatches);
    }
    case 'failed':
      return withErrors(
        {
          ...heard,
          finished: tally.finished + 1,
          unreachable: tally.unreachable + (happening.greeted ? 0 : 1),
        },
        [happening.reason],
      );
    case 'finished':
      return { ...heard, finished: tally.finished + 1 };
  }
}

/**
 * Folds one client event into the tally: the reducer of a load test's `scan`. It notes when
 * every client has its handshake, or has failed without one: then they all start.
 */
export function foldLoadEvent(
  clients: number,
  tally: Tally,
  happening: LoadClientEvent,
  now: number,
): Tally {
  const next = tallied(tally, happening, now);
  const allReady = next.allReadyAt === undefined && next.ready + next.unreachable === clients;
  return allReady ? { ...next, allReadyAt: now } : next;
}

export function initialTally(startedAt: number): Tally {
  return {
    ready: 0,
    unreachable: 0,
    finished: 0,
    echoed: 0,
    delivered: 0,
    errors: 0,
    firstErrors: [],
    allReadyAt: undefined,
    lastHeardAt: startedAt,
    lastMessageAt: startedAt,
  };
}
