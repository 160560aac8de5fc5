import {
  concat,
  defer,
  delay,
  filter,
  first,
  ignoreElements,
  interval,
  map,
  merge,
  mergeMap,
  Observable,
  of,
  race,
  range,
  scan,
  share,
  Subject,
  take,
  takeUntil,
  tap,
  throwError,
  timer,
  zip,
} from 'rxjs';
import { Transport } from '../transport/transport';
import { ClientPlan } from './client-plan';
import { Cue } from './cue';
import { LatencyHistogram } from './latency-histogram';
import { loadClient, LoadClientEvent } from './load-client';
import { foldLoadEvent, initialTally, Tally } from './load-tally';

/** One round of a load test: its clients connect, start together, do their work and close. */
export interface Phase {
  readonly clients: number;
  /** What client `index` (0, 1, …) does. */
  readonly plan: (index: number) => ClientPlan;
  /** Which of the load test's servers (0, 1, …) client `index` connects to. */
  readonly server: (index: number) => number;
  /** What the phase's progress counts: the echoes its clients get, or what they are delivered. */
  readonly counts: 'echoes' | 'deliveries';
  /** What its counted messages are, for the progress line: echoed, delivered, stored. */
  readonly label: string;
  /** How many of those there are to be. */
  readonly expected: number;
  /** How long the connections stay open, idle, once every client is done. */
  readonly holdMs: number;
}

export interface PhaseLimits {
  /** The phase stops after this long, finished or not. */
  readonly durationMs: number;
  /** With nothing heard from the server for this long, the phase fails: it never hangs. */
  readonly stallMs: number;
}

/** What a phase came to. */
export interface PhaseResult {
  /** Clients that got their handshake (and welcome). */
  readonly connections: number;
  /** From the first connect until every client was ready. */
  readonly handshakeSeconds: number;
  readonly echoed: number;
  readonly delivered: number;
  /** From the start until the last echo or delivery. */
  readonly seconds: number;
  readonly errors: number;
  readonly firstErrors: readonly string[];
  readonly timedOut: boolean;
}

export type PhaseEvent =
  | {
      readonly type: 'progress';
      readonly label: string;
      readonly done: number;
      readonly expected: number;
    }
  | { readonly type: 'holding'; readonly connections: number; readonly seconds: number }
  | { readonly type: 'ended'; readonly result: PhaseResult };

/**
 * Connections waiting for their handshake at once: enough to be quick, few enough not to
 * overflow the server's listen backlog (a client's connect completes before the server accepts).
 */
const HANDSHAKES_AT_ONCE = 256;
const PROGRESS_EVERY_MS = 250;

function resultOf(tally: Tally, started: number, timedOut: boolean): PhaseResult {
  const startedWork = tally.allReadyAt ?? started;
  return {
    connections: tally.ready,
    handshakeSeconds: ((tally.allReadyAt ?? tally.lastHeardAt) - started) / 1000,
    echoed: tally.echoed,
    delivered: tally.delivered,
    seconds: Math.max(0, (tally.lastMessageAt - startedWork) / 1000),
    errors: tally.errors,
    firstErrors: tally.firstErrors,
    timedOut,
  };
}

/**
 * A phase as a stream: opens `clients` connections with `connect` (client `index` to server
 * `phase.server(index)`, as `connect(server, index)`), waits until every client is ready, then
 * starts them all at once. Progress comes every quarter second, then the result. It stops by
 * itself: when all clients are done and closed, when the duration is up, or when the server has
 * been silent for `stallMs` (an error).
 */
export function runPhase(
  phase: Phase,
  limits: PhaseLimits,
  connect: (server: number, client: number) => Observable<Transport>,
  clock: () => number,
  latencies: LatencyHistogram,
): Observable<PhaseEvent> {
  return defer(() => {
    const started = clock();
    const start = new Cue();
    const release = new Cue();
    const cues = { start$: start.fired$, release$: release.fired$ };

    // A client is launched for each one that gets its handshake, or fails without one.
    const handshakeDone$ = new Subject<void>();
    const launch$ = zip(
      range(0, phase.clients),
      concat(range(0, HANDSHAKES_AT_ONCE), handshakeDone$),
    );
    const happening$ = launch$.pipe(
      mergeMap(([index]) => {
        const server = phase.server(index);
        return loadClient(() => connect(server, index), phase.plan(index), cues, latencies, clock);
      }),
    );
    const initial = initialTally(started);
    let latest = initial;
    const tally$ = happening$.pipe(
      tap((happening) => {
        const settled =
          happening.type === 'ready' || (happening.type === 'failed' && !happening.greeted);
        if (settled) handshakeDone$.next();
      }),
      scan(
        (tally: Tally, happening: LoadClientEvent) =>
          foldLoadEvent(phase.clients, tally, happening, clock()),
        initial,
      ),
      tap((tally) => (latest = tally)),
      share(),
    );
    const allFinished$ = tally$.pipe(first((tally) => tally.finished === phase.clients));
    // The clients run while tally$ is subscribed; it completes when every client has closed.
    const allDone$ = merge(
      tally$.pipe(ignoreElements()),
      tally$.pipe(
        first((tally) => tally.allReadyAt !== undefined),
        tap(() => start.fire()),
        ignoreElements(),
      ),
      allFinished$.pipe(
        delay(phase.holdMs),
        tap(() => release.fire()),
        ignoreElements(),
      ),
    );
    const holding$ = allFinished$.pipe(
      filter(() => phase.holdMs > 0),
      map((tally): PhaseEvent => ({
        type: 'holding',
        connections: tally.ready,
        seconds: phase.holdMs / 1000,
      })),
    );
    // Silence counts only while clients are still at work: a held connection is idle by design.
    const stalled$ = interval(Math.min(limits.stallMs, 1000)).pipe(
      filter(() => latest.finished < phase.clients),
      filter(() => clock() - latest.lastHeardAt > limits.stallMs),
      mergeMap(() =>
        throwError(
          () =>
            new Error(`the server stopped answering: nothing heard for ${limits.stallMs / 1000} s`),
        ),
      ),
    );
    const timedOut$ = race(
      concat(allDone$, of(false)),
      timer(Math.max(0, limits.durationMs)).pipe(map(() => true)),
      stalled$,
    ).pipe(take(1), share());
    const progress$ = interval(PROGRESS_EVERY_MS).pipe(
      map((): PhaseEvent => ({
        type: 'progress',
        label: phase.label,
        done: phase.counts === 'echoes' ? latest.echoed : latest.delivered,
        expected: phase.expected,
      })),
    );
    return merge(
      progress$.pipe(takeUntil(timedOut$)),
      holding$.pipe(takeUntil(timedOut$)),
      timedOut$.pipe(
        map((timedOut): PhaseEvent => ({
          type: 'ended',
          result: resultOf(latest, started, timedOut),
        })),
      ),
    );
  });
}
