import { Observable, Observer, Subscriber } from 'rxjs';
import { frameCodec } from '../protocol/chat-codec';
import * as generated from '../protocol/generated/chat';
import { describeNetworkError } from '../transport/network-errors';
import { Transport } from '../transport/transport';
import { ClientPlan } from './client-plan';
import { Conversation, Step } from './conversation';
import { DirectConversation } from './direct-conversation';
import { EchoConversation } from './echo-conversation';
import { LatencyHistogram } from './latency-histogram';

/**
 * When the clients of a load test start, and when they may close their connections: each
 * emits once, then completes.
 */
export interface LoadCues {
  readonly start$: Observable<void>;
  readonly release$: Observable<void>;
}

export type LoadClientEvent =
  | { readonly type: 'ready' }
  /** What one read of frames from the server came to: echoes and new deliveries, and what was wrong. */
  | {
      readonly type: 'checked';
      readonly echoes: number;
      readonly deliveries: number;
      readonly mismatches: readonly string[];
    }
  | { readonly type: 'finished' }
  /** `greeted`: whether it had its handshake before it failed. */
  | { readonly type: 'failed'; readonly reason: string; readonly greeted: boolean };

/** Answers can be a few bytes longer than what was sent; nothing a load test sends comes near this. */
const serverFrames = frameCodec(16 * 1024 * 1024);

/** A client's end when it fails: said as an event, so that one client's failure ends only it. */
function fail(events: Subscriber<LoadClientEvent>, reason: string, greeted: boolean): void {
  events.next({ type: 'failed', reason, greeted });
  events.complete();
}

function conversationFor(
  plan: ClientPlan,
  latencies: LatencyHistogram,
  clock: () => number,
): Conversation {
  return plan.kind === 'echo'
    ? new EchoConversation(plan, latencies, clock)
    : new DirectConversation(plan, latencies, clock);
}

/**
 * One load-test connection: its handshake, then its conversation, whose steps it writes and
 * reports. Released, it ends its side and completes once the connection is closed, so that the
 * server has seen it go.
 */
class LoadConnection implements Observer<Buffer> {
  private readonly decoder = serverFrames.decoder();
  private state: 'connected' | 'greeted' | 'started' | 'finished' | 'closing' = 'connected';

  constructor(
    private readonly transport: Transport,
    private readonly conversation: Conversation,
    private readonly cues: LoadCues,
    private readonly clock: () => number,
    private readonly events: Subscriber<LoadClientEvent>,
  ) {}

  next(chunk: Buffer): void {
    this.attempt(() => {
      const bodies = this.decoder.push(chunk);
      if (this.state === 'connected') {
        const first = bodies.shift();
        if (!first) return;
        const handshake = generated.Handshake.decode(first);
        if (handshake.error) throw new Error('server refused the connection');
        this.state = 'greeted';
        this.take(this.conversation.greet(handshake));
      }
      if (bodies.length > 0) this.take(this.conversation.read(bodies, this.clock()));
    });
  }

  error(error: unknown): void {
    if (this.state !== 'closing') this.fail(`lost the connection: ${describeNetworkError(error)}`);
  }

  complete(): void {
    if (this.state === 'closing') return;
    this.fail(
      this.state === 'connected'
        ? 'the server closed the connection before its handshake'
        : `the server closed the connection after ${this.conversation.progress()}`,
    );
  }

  close(): void {
    if (this.state === 'finished' || this.state === 'closing') this.transport.end();
    else this.transport.destroy();
  }

  private fail(reason: string): void {
    fail(this.events, reason, this.state !== 'connected');
  }

  /** Does `work`; what goes wrong in it ends this client, as a failure. */
  private attempt(work: () => void): void {
    try {
      work();
    } catch (error) {
      this.fail(describeNetworkError(error));
    }
  }

  private take({ write, ready, checked }: Step): void {
    if (write) this.transport.write(write);
    if (checked) this.events.next({ type: 'checked', ...checked });
    if (ready) {
      this.events.next({ type: 'ready' });
      this.events.add(this.cues.start$.subscribe(() => this.attempt(() => this.start())));
    }
    if (this.state === 'started' && this.conversation.done) this.finish();
  }

  private start(): void {
    this.state = 'started';
    this.take(this.conversation.start());
  }

  private finish(): void {
    this.state = 'finished';
    this.events.next({ type: 'finished' });
    this.events.add(this.cues.release$.subscribe(() => this.release()));
  }

  private release(): void {
    this.state = 'closing';
    this.transport.end();
    this.events.add(this.transport.closed.subscribe(() => this.events.complete()));
  }
}

/**
 * One load-test client as a stream. It connects and, once its handshake (and any hello) is
 * done, says `ready`; at `start$` it does what its plan says, reporting what it reads from the
 * server as `checked` (per chunk, with any mismatch described). Once its work is done it says
 * `finished`, and at `release$` it closes its connection and completes when it is closed. When
 * it cannot connect, or the connection ends first, it says `failed`, why, and completes.
 * Latencies, from sending a message to its echo, go into `latencies`, in nanoseconds.
 */
export function loadClient(
  connect: () => Observable<Transport>,
  plan: ClientPlan,
  cues: LoadCues,
  latencies: LatencyHistogram,
  clock: () => number,
): Observable<LoadClientEvent> {
  return new Observable<LoadClientEvent>((subscriber) => {
    const talk = (transport: Transport) => {
      const conversation = conversationFor(plan, latencies, clock);
      const connection = new LoadConnection(transport, conversation, cues, clock, subscriber);
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
