import { Observable, Observer, Subscriber } from 'rxjs';
import { frameCodec } from '../protocol/chat-codec';
import * as generated from '../protocol/generated/chat';
import { describeNetworkError } from '../transport/network-errors';
import { Transport } from '../transport/transport';
import { LatencyHistogram } from './latency-histogram';
import { LoadMessages } from './load-messages';

export interface LoadPlan {
  /** Messages each client sends. */
  readonly messages: number;
  /** Messages a client may have sent and not yet seen echoed. */
  readonly window: number;
  /** Bytes of text in each message. */
  readonly size: number;
}

/**
 * When the clients of a load test start sending, and when they may close their connections:
 * each emits once, then completes.
 */
export interface LoadCues {
  readonly start$: Observable<void>;
  readonly release$: Observable<void>;
}

export type LoadClientEvent =
  | { readonly type: 'ready' }
  | { readonly type: 'echoes'; readonly count: number; readonly mismatches: readonly string[] }
  | { readonly type: 'finished' }
  /** `greeted`: whether it had its handshake before it failed. */
  | { readonly type: 'failed'; readonly reason: string; readonly greeted: boolean };

/** Echoes can be a few bytes longer than what was sent; nothing a load test sends comes near this. */
const echoFrames = frameCodec(16 * 1024 * 1024);

function describe(body: Buffer): string {
  try {
    const { from, to, msg } = generated.ChatMessage.decode(body);
    return JSON.stringify({ from: from.toString(), to: to.toString(), msg });
  } catch (error) {
    return `undecodable (${error instanceof Error ? error.message : String(error)})`;
  }
}

/** An echo in another encoding than ours is still right if its fields are. */
function sameFields(body: Buffer, messages: LoadMessages, seq: number): boolean {
  try {
    const { from, to, msg } = generated.ChatMessage.decode(body);
    return from.equals(messages.id) && to.equals(messages.id) && msg === messages.text(seq);
  } catch {
    return false;
  }
}

/** A client's end when it fails: said as an event, so that one client's failure ends only it. */
function fail(events: Subscriber<LoadClientEvent>, reason: string, greeted: boolean): void {
  events.next({ type: 'failed', reason, greeted });
  events.complete();
}

/** One load-test connection: its handshake, its messages, the check of its echoes. */
class LoadConnection implements Observer<Buffer> {
  private readonly decoder = echoFrames.decoder();
  private readonly sentAt: Float64Array;
  private messages: LoadMessages | undefined;
  private sent = 0;
  private echoed = 0;
  private finished = false;

  constructor(
    private readonly transport: Transport,
    private readonly plan: LoadPlan,
    private readonly cues: LoadCues,
    private readonly latencies: LatencyHistogram,
    private readonly clock: () => number,
    private readonly events: Subscriber<LoadClientEvent>,
  ) {
    this.sentAt = new Float64Array(Math.max(1, plan.window));
  }

  next(chunk: Buffer): void {
    try {
      const bodies = this.decoder.push(chunk);
      if (!this.messages) {
        const first = bodies.shift();
        if (first) this.greet(first);
      }
      if (this.messages && bodies.length > 0) this.check(bodies, this.messages);
    } catch (error) {
      this.fail(describeNetworkError(error));
    }
  }

  error(error: unknown): void {
    this.fail(`lost the connection: ${describeNetworkError(error)}`);
  }

  complete(): void {
    this.fail(
      this.messages
        ? `the server closed the connection after ${this.echoed} of ${this.plan.messages} echoes`
        : 'the server closed the connection before its handshake',
    );
  }

  close(): void {
    if (this.finished) this.transport.end();
    else this.transport.destroy();
  }

  private fail(reason: string): void {
    fail(this.events, reason, this.messages !== undefined);
  }

  private greet(frame: Buffer): void {
    const handshake = generated.Handshake.decode(frame);
    if (handshake.error) throw new Error('server refused the connection');
    const messages = new LoadMessages(handshake.id, this.plan.size);
    this.messages = messages;
    this.events.next({ type: 'ready' });
    this.events.add(
      this.cues.start$.subscribe(() => {
        if (this.plan.messages === 0) this.finish();
        else this.sendMore(messages);
      }),
    );
  }

  private finish(): void {
    this.finished = true;
    this.events.next({ type: 'finished' });
    this.events.add(this.cues.release$.subscribe(() => this.events.complete()));
  }

  private sendMore(messages: LoadMessages): void {
    const { plan, sentAt } = this;
    const count = Math.min(plan.window - (this.sent - this.echoed), plan.messages - this.sent);
    if (count <= 0) return;
    const now = this.clock();
    for (let seq = this.sent; seq < this.sent + count; seq++) sentAt[seq % sentAt.length] = now;
    this.transport.write(messages.frames(this.sent, count));
    this.sent += count;
  }

  private check(bodies: Buffer[], messages: LoadMessages): void {
    const { sentAt } = this;
    const now = this.clock();
    const mismatches: string[] = [];
    // Messages sent together share a send time: their latencies are recorded in one go.
    let runSentAt = NaN;
    let runLength = 0;
    for (const body of bodies) {
      if (this.echoed === this.sent) {
        mismatches.push(`an echo for a message never sent: ${describe(body)}`);
        continue;
      }
      if (!messages.isEcho(body, this.echoed) && !sameFields(body, messages, this.echoed)) {
        mismatches.push(
          `echo ${this.echoed} is ${describe(body)}, not "${messages.text(this.echoed)}"`,
        );
      }
      const at = sentAt[this.echoed % sentAt.length] ?? now;
      if (at !== runSentAt) {
        if (runLength > 0) this.latencies.record((now - runSentAt) * 1e6, runLength);
        runSentAt = at;
        runLength = 0;
      }
      runLength++;
      this.echoed++;
    }
    if (runLength > 0) this.latencies.record((now - runSentAt) * 1e6, runLength);
    this.events.next({ type: 'echoes', count: bodies.length, mismatches });
    if (this.echoed === this.plan.messages && !this.finished) this.finish();
    else this.sendMore(messages);
  }
}

/**
 * One load-test connection as a stream. It connects and waits for the handshake (`ready`); at
 * `start$` it sends its messages, keeping at most `window` in flight, and checks that each echo
 * is the next message it sent (`echoes`, per chunk of them, with any mismatch described). Once
 * every echo is in it says `finished`, and at `release$` it closes its connection and
 * completes. When it cannot connect, or the connection ends first, it says `failed`, why, and
 * completes. Latencies, from
 * sending to the echo's arrival, go into `latencies`, in nanoseconds.
 */
export function loadClient(
  connect: () => Observable<Transport>,
  plan: LoadPlan,
  cues: LoadCues,
  latencies: LatencyHistogram,
  clock: () => number,
): Observable<LoadClientEvent> {
  return new Observable<LoadClientEvent>((subscriber) => {
    const talk = (transport: Transport) => {
      const connection = new LoadConnection(transport, plan, cues, latencies, clock, subscriber);
      subscriber.add(() => connection.close());
      subscriber.add(transport.chunks.subscribe(connection));
    };
    subscriber.add(
      connect().subscribe({
        next: talk,
        error: (error: unknown) =>
          fail(subscriber, `cannot connect: ${describeNetworkError(error)}`, false),
      }),
    );
  });
}
