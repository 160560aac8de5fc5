import { defer, mergeMap, Observable, of } from 'rxjs';
import { Transport } from '../transport/transport';
import { LatencyHistogram } from './latency-histogram';
import { LoadMode, ModeOptions, phasesOf } from './load-modes';
import { PhaseEvent, PhaseResult, runPhase } from './load-phase';
import { firstErrorsOf } from './load-tally';

export interface LoadTestOptions extends ModeOptions {
  readonly mode: LoadMode;
  /** The whole run stops after this long, finished or not. */
  readonly durationMs: number;
  /** With nothing heard from the server for this long, the run fails: it never hangs. */
  readonly stallMs: number;
}

export interface LatencySummary {
  readonly p50: number;
  readonly p90: number;
  readonly p99: number;
  readonly max: number;
}

/** Messages over the seconds they took. */
export interface Rate {
  readonly messages: number;
  readonly seconds: number;
  readonly messagesPerSecond: number;
}

export interface LoadTestSummary {
  /** Connections that got their handshake. */
  readonly connections: number;
  readonly handshakeSeconds: number;
  readonly expectedMessages: number;
  readonly echoedMessages: number;
  /** Direct messages delivered to their recipients (0 in echo mode). */
  readonly deliveredMessages: number;
  readonly seconds: number;
  /** Echoes a second in echo mode; deliveries a second with direct messages. */
  readonly messagesPerSecond: number;
  readonly latencyMicros: LatencySummary;
  readonly errors: number;
  readonly firstErrors: readonly string[];
  readonly timedOut: boolean;
  /** Offline mode: the burst, stored while its recipients were away (its echoes a second). */
  readonly stored?: Rate;
  /** Offline mode: the burst delivered once its recipients resumed. */
  readonly resumed?: Rate;
}

export type LoadTestEvent =
  | Exclude<PhaseEvent, { readonly type: 'ended' }>
  | { readonly type: 'summary'; readonly summary: LoadTestSummary };

/** What a phase that never ran came to. */
const NOT_RUN: PhaseResult = {
  connections: 0,
  handshakeSeconds: 0,
  echoed: 0,
  delivered: 0,
  seconds: 0,
  errors: 0,
  firstErrors: [],
  timedOut: false,
};

function rate(messages: number, seconds: number): Rate {
  return { messages, seconds, messagesPerSecond: seconds > 0 ? messages / seconds : 0 };
}

/** What every phase's results add up to, and what the mode measures of them. */
function summarize(
  options: LoadTestOptions,
  results: readonly PhaseResult[],
  latencies: LatencyHistogram,
): LoadTestSummary {
  const micros = (nanos: number) => Math.round(nanos / 1000);
  const all = {
    latencyMicros: {
      p50: micros(latencies.percentile(50)),
      p90: micros(latencies.percentile(90)),
      p99: micros(latencies.percentile(99)),
      max: micros(latencies.max),
    },
    errors: results.reduce((total, result) => total + result.errors, 0),
    firstErrors: results.reduce<readonly string[]>(
      (errors, result) => firstErrorsOf(errors, result.firstErrors),
      [],
    ),
    timedOut: results.some((result) => result.timedOut),
  };
  if (options.mode !== 'offline') {
    const only = results[0] ?? NOT_RUN;
    const counted = options.mode === 'echo' ? only.echoed : only.delivered;
    return {
      connections: only.connections,
      handshakeSeconds: only.handshakeSeconds,
      expectedMessages: options.clients * options.messages,
      echoedMessages: only.echoed,
      deliveredMessages: only.delivered,
      seconds: only.seconds,
      messagesPerSecond: rate(counted, only.seconds).messagesPerSecond,
      ...all,
    };
  }
  const [register = NOT_RUN, burst = NOT_RUN, resume = NOT_RUN] = results;
  const seconds = burst.seconds + resume.seconds;
  return {
    connections: register.connections + burst.connections,
    handshakeSeconds: register.handshakeSeconds + burst.handshakeSeconds,
    expectedMessages: (options.clients / 2) * options.messages,
    echoedMessages: burst.echoed,
    deliveredMessages: resume.delivered,
    seconds,
    messagesPerSecond: rate(resume.delivered, seconds).messagesPerSecond,
    ...all,
    stored: rate(burst.echoed, burst.seconds),
    resumed: rate(resume.delivered, resume.seconds),
  };
}

/**
 * A load test as a stream: the phases of its mode, one after the other (each opens its
 * connections, waits until every client is ready, starts them all at once and closes them when
 * they are done), with progress every quarter second, then one summary. `connect(server, client)`
 * opens client `client`'s connection (0, 1, … in each phase) to server 0, 1, … of
 * `options.servers`, as the mode spreads the clients. It stops by itself: when all phases are
 * done, when the duration is up, or when the server has been silent for `stallMs` (an error).
 */
export function runLoadTest(
  options: LoadTestOptions,
  connect: (server: number, client: number) => Observable<Transport>,
  clock: () => number,
): Observable<LoadTestEvent> {
  return defer(() => {
    const deadline = clock() + options.durationMs;
    const latencies = new LatencyHistogram();
    const phases = phasesOf(options.mode, options);
    const results: PhaseResult[] = [];
    const from = (index: number): Observable<LoadTestEvent> => {
      const phase = phases[index];
      if (!phase || results.at(-1)?.timedOut === true) {
        return of({ type: 'summary', summary: summarize(options, results, latencies) });
      }
      const limits = { durationMs: deadline - clock(), stallMs: options.stallMs };
      return runPhase(phase, limits, connect, clock, latencies).pipe(
        mergeMap((event) => {
          if (event.type !== 'ended') return of(event);
          results.push(event.result);
          return defer(() => from(index + 1));
        }),
      );
    };
    return from(0);
  });
}
