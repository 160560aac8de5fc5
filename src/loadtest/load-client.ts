import { Observable, take } from 'rxjs';
import { frameCodec } from '../protocol/chat-codec';
import * as generated from '../protocol/generated/chat';
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

/** When the clients of a load test start sending, and when they may close their connections. */
export interface LoadCues {
  readonly start$: Observable<void>;
  readonly release$: Observable<void>;
}

export type LoadClientEvent =
  | { readonly type: 'ready' }
  | { readonly type: 'echoes'; readonly count: number; readonly mismatches: readonly string[] }
  | { readonly type: 'finished' };

/** Echoes can be a few bytes longer than what was sent; nothing a load test sends comes near this. */
const MAX_ECHO_BYTES = 16 * 1024 * 1024;

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

/**
 * One load-test connection as a stream. It waits for the handshake (`ready`); at `start$` it
 * sends its messages, keeping at most `window` in flight, and checks that each echo is the next
 * message it sent (`echoes`, per chunk of them, with any mismatch described). Once every echo
 * is in it says `finished`, and at `release$` it closes its connection and completes. It fails
 * if the connection ends first. Latencies, from sending to the echo's arrival, go into
 * `latencies`, in nanoseconds.
 */
export function loadClient(
  transport: Transport,
  plan: LoadPlan,
  cues: LoadCues,
  latencies: LatencyHistogram,
  clock: () => number,
): Observable<LoadClientEvent> {
  return new Observable<LoadClientEvent>((subscriber) => {
    const decoder = frameCodec(MAX_ECHO_BYTES).decoder();
    const sentAt = new Float64Array(Math.max(1, plan.window));
    let messages: LoadMessages | undefined;
    let sent = 0;
    let echoed = 0;
    let finished = false;

    const finish = () => {
      finished = true;
      subscriber.next({ type: 'finished' });
      subscriber.add(cues.release$.pipe(take(1)).subscribe(() => subscriber.complete()));
    };

    const sendMore = (batch: LoadMessages) => {
      const count = Math.min(plan.window - (sent - echoed), plan.messages - sent);
      if (count <= 0) return;
      const now = clock();
      for (let seq = sent; seq < sent + count; seq++) sentAt[seq % sentAt.length] = now;
      transport.write(batch.frames(sent, count));
      sent += count;
    };

    const greet = (frame: Buffer) => {
      const handshake = generated.Handshake.decode(frame);
      if (handshake.error) throw new Error('server refused the connection');
      const ready = new LoadMessages(handshake.id, plan.size);
      messages = ready;
      subscriber.next({ type: 'ready' });
      subscriber.add(
        cues.start$.pipe(take(1)).subscribe(() => {
          if (plan.messages === 0) finish();
          else sendMore(ready);
        }),
      );
    };

    const check = (bodies: Buffer[], batch: LoadMessages) => {
      const now = clock();
      const mismatches: string[] = [];
      // Messages sent together share a send time: their latencies are recorded in one go.
      let runSentAt = NaN;
      let runLength = 0;
      for (const body of bodies) {
        if (echoed === sent) {
          mismatches.push(`an echo for a message never sent: ${describe(body)}`);
          continue;
        }
        if (!batch.isEcho(body, echoed) && !sameFields(body, batch, echoed)) {
          mismatches.push(`echo ${echoed} is ${describe(body)}, not "${batch.text(echoed)}"`);
        }
        const at = sentAt[echoed % sentAt.length] ?? now;
        if (at !== runSentAt) {
          if (runLength > 0) latencies.record((now - runSentAt) * 1e6, runLength);
          runSentAt = at;
          runLength = 0;
        }
        runLength++;
        echoed++;
      }
      if (runLength > 0) latencies.record((now - runSentAt) * 1e6, runLength);
      subscriber.next({ type: 'echoes', count: bodies.length, mismatches });
      if (echoed === plan.messages && !finished) finish();
      else sendMore(batch);
    };

    const onChunk = (chunk: Buffer) => {
      const bodies = decoder.push(chunk);
      if (!messages) {
        const first = bodies.shift();
        if (first) greet(first);
      }
      if (messages && bodies.length > 0) check(bodies, messages);
    };

    subscriber.add(
      transport.chunks.subscribe({
        next: (chunk) => {
          try {
            onChunk(chunk);
          } catch (error) {
            subscriber.error(error);
          }
        },
        error: (error: unknown) => subscriber.error(error),
        complete: () =>
          subscriber.error(
            new Error(
              messages
                ? `the server closed the connection after ${echoed} of ${plan.messages} echoes`
                : 'the server closed the connection before its handshake',
            ),
          ),
      }),
    );
    return () => {
      if (finished) transport.end();
      else transport.destroy();
    };
  });
}
