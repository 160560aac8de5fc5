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
import { Cue } from './cue';
import { LatencyHistogram } from './latency-histogram';
import { loadClient, LoadClientEvent, LoadPlan } from './load-client';

export interface LoadTestOptions extends LoadPlan {
  readonly clients: number;
  /** The whole run stops after this long, finished or not. */
  readonly durationMs: number;
  /** With nothing heard from the server for this long, the run fails: it never hangs. */
  readonly stallMs: number;
  /** How long the connections stay open, idle, once every client is done. */
  readonly holdMs: number;
}

export interface LatencySummary {
  readonly p50: number;
  readonly p90: number;
  readonly p99: number;
  readonly max: number;
}

export interface LoadTestSummary {
  /** Connections that got their handshake. */
  readonly connections: number;
  readonly handshakeSeconds: number;
  readonly expectedMessages: number;
  readonly echoedMessages: number;
  readonly seconds: number;
  readonly messagesPerSecond: number;
  readonly latencyMicros: LatencySummary;
  readonly errors: number;
  readonly firstErrors: readonly string[];
  readonly timedOut: boolean;
}

export type LoadTestEvent =
  | { readonly type: 'progress'; readonly echoed: number; readonly expected: number }
  | { readonly type: 'holding'; readonly connections: number; readonly seconds: number }
  | { readonly type: 'summary'; readonly summary: LoadTestSummary };

/**
 * Connections waiting for their handshake at once: enough to be quick, few enough not to
 * overflow the server's listen backlog (a client's connect completes before the server accepts).
 */
const HANDSHAKES_AT_ONCE = 256;
const ERRORS_KEPT = 10;
const PROGRESS_EVERY_MS = 250;

export interface Tally {
  readonly ready: number;
  /** Clients that failed before their handshake. */
  readonly unreachable: number;
  readonly finished: number;
  readonly echoed: number;
  readonly errors: number;
  readonly firstErrors: readonly string[];
  readonly allReadyAt: number | undefined;
  readonly lastHeardAt: number;
  readonly lastEchoAt: number;
}

function withErrors(tally: Tally, reasons: readonly string[]): Tally {
  if (reasons.length === 0) return tally;
  return {
    ...tally,
    errors: tally.errors + reasons.length,
    firstErrors: [...tally.firstErrors, ...reasons].slice(0, ERRORS_KEPT),
  };
}

function tallied(tally: Tally, happening: LoadClientEvent, now: number): Tally {
  const heard = { ...tally, lastHeardAt: now };
  switch (happening.type) {
    case 'ready':
      return { ...heard, ready: tally.ready + 1 };
    case 'echoes':
      return withErrors(
        { ...heard, echoed: tally.echoed + happening.count, lastEchoAt: now },
        happening.mismatches,
      );
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
 * Folds one client event into the tally: the reducer of the load test's `scan`. It notes when
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
    errors: 0,
    firstErrors: [],
    allReadyAt: undefined,
    lastHeardAt: startedAt,
    lastEchoAt: startedAt,
  };
}

function summarize(
  options: LoadTestOptions,
  tally: Tally,
  started: number,
  latencies: LatencyHistogram,
  timedOut: boolean,
): LoadTestSummary {
  const sendingFrom = tally.allReadyAt ?? started;
  const seconds = Math.max(0, (tally.lastEchoAt - sendingFrom) / 1000);
  const micros = (nanos: number) => Math.round(nanos / 1000);
  return {
    connections: tally.ready,
    handshakeSeconds: ((tally.allReadyAt ?? tally.lastHeardAt) - started) / 1000,
    expectedMessages: options.clients * options.messages,
    echoedMessages: tally.echoed,
    seconds,
    messagesPerSecond: seconds > 0 ? tally.echoed / seconds : 0,
    latencyMicros: {
      p50: micros(latencies.percentile(50)),
      p90: micros(latencies.percentile(90)),
      p99: micros(latencies.percentile(99)),
      max: micros(latencies.max),
    },
    errors: tally.errors,
    firstErrors: tally.firstErrors,
    timedOut,
  };
}

/**
 * A load test as a stream: opens `clients` connections with `connect`, waits for every handshake,
 * then every client sends its messages at once and checks its echoes. Progress comes every
 * quarter second, then one summary. It stops by itself: when all clients are done, when the
 * duration is up, or when the server has been silent for `stallMs`.
 */
export function runLoadTest(
  options: LoadTestOptions,
  connect: () => Observable<Transport>,
  clock: () => number,
): Observable<LoadTestEvent> {
  return defer(() => {
    const started = clock();
    const latencies = new LatencyHistogram();
    const start = new Cue();
    const release = new Cue();
    const cues = { start$: start.fired$, release$: release.fired$ };

    // A client is launched for each one that gets its handshake, or fails without one.
    const handshakeDone$ = new Subject<void>();
    const launch$ = zip(
      range(0, options.clients),
      concat(range(0, HANDSHAKES_AT_ONCE), handshakeDone$),
    );
    const happening$ = launch$.pipe(
      mergeMap(() => loadClient(connect, options, cues, latencies, clock)),
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
          foldLoadEvent(options.clients, tally, happening, clock()),
        initial,
      ),
      tap((tally) => (latest = tally)),
      share(),
    );
    const allFinished$ = tally$.pipe(first((tally) => tally.finished === options.clients));
    // The clients run while tally$ is subscribed; it completes when every client has closed.
    const allDone$ = merge(
      tally$.pipe(ignoreElements()),
      tally$.pipe(
        first((tally) => tally.allReadyAt !== undefined),
        tap(() => start.fire()),
        ignoreElements(),
      ),
      allFinished$.pipe(
        delay(options.holdMs),
        tap(() => release.fire()),
        ignoreElements(),
      ),
    );
    const holding$ = allFinished$.pipe(
      filter(() => options.holdMs > 0),
      map((tally): LoadTestEvent => ({
        type: 'holding',
        connections: tally.ready,
        seconds: options.holdMs / 1000,
      })),
    );
    // Silence counts only while clients are still at work: a held connection is idle by design.
    const stalled$ = interval(Math.min(options.stallMs, 1000)).pipe(
      filter(() => latest.finished < options.clients),
      filter(() => clock() - latest.lastHeardAt > options.stallMs),
      mergeMap(() =>
        throwError(
          () =>
            new Error(
              `the server stopped answering: nothing heard for ${options.stallMs / 1000} s`,
            ),
        ),
      ),
    );
    const timedOut$ = race(
      concat(allDone$, of(false)),
      timer(options.durationMs).pipe(map(() => true)),
      stalled$,
    ).pipe(take(1), share());
    const progress$ = interval(PROGRESS_EVERY_MS).pipe(
      map((): LoadTestEvent => ({
        type: 'progress',
        echoed: latest.echoed,
        expected: options.clients * options.messages,
      })),
    );
    return merge(
      progress$.pipe(takeUntil(timedOut$)),
      holding$.pipe(takeUntil(timedOut$)),
      timedOut$.pipe(
        map((timedOut): LoadTestEvent => ({
          type: 'summary',
          summary: summarize(options, latest, started, latencies, timedOut),
        })),
      ),
    );
  });
}
