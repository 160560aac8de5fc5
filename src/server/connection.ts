import { concatWith, ignoreElements, NEVER, Observable, take, tap } from 'rxjs';
import { decodeWith } from '../protocol/decode-with';
import { ProtocolError } from '../protocol/protocol-error';
import { mergeUntilAnyCompletes } from '../streams/merge-until-any-completes';
import { Transport } from '../transport/transport';
import { Service, UserId } from './service';
import { TrafficCounter } from './traffic';

export type ConnectionEvent =
  | { readonly type: 'protocol-error'; readonly message: string }
  | { readonly type: 'closed'; readonly reason: string };

export interface ConnectionPlan<Out> {
  /** What the server sends this user unprompted, such as announcements. */
  readonly push$: Observable<readonly Out[]>;
  /** Closes the connection gracefully at its first value, which says why. */
  readonly stop$: Observable<string>;
  readonly traffic: TrafficCounter;
}

function describeFailure(error: unknown): string {
  if (error instanceof ProtocolError) return `protocol error: ${error.message}`;
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  if (code === 'ECONNRESET') return 'connection reset by the client';
  if (error instanceof Error) return code ? `${error.message} (${code})` : error.message;
  return String(error);
}

/**
 * One connection's whole life as one stream. The session's replies, the server's pushes and a
 * stop signal are written to the transport, a batch at a time, and counted in `plan.traffic`;
 * the stream reports a protocol error, if any, and ends with one `closed` event once the socket
 * has closed. Unsubscribing destroys the socket.
 */
export function serveConnection<In, Out>(
  transport: Transport,
  service: Service<In, Out>,
  id: UserId,
  plan: ConnectionPlan<Out>,
): Observable<ConnectionEvent> {
  return new Observable<ConnectionEvent>((subscriber) => {
    let reason: string | undefined;
    const closeReason = (why: string) => {
      reason ??= why;
    };

    const input$ = transport.chunks.pipe(
      decodeWith(service.incoming),
      tap({
        next: (batch) => plan.traffic.countIn(batch.length),
        complete: () => closeReason('client closed the connection'),
      }),
    );
    const output$ = mergeUntilAnyCompletes(
      service.session(id, input$),
      plan.push$.pipe(concatWith(NEVER)),
      plan.stop$.pipe(take(1), tap(closeReason), ignoreElements()),
    );

    subscriber.add(() => transport.destroy());
    subscriber.add(
      output$.subscribe({
        next: (batch) => {
          transport.write(service.outgoing.encode(batch));
          plan.traffic.countOut(batch.length);
        },
        error: (error: unknown) => {
          closeReason(describeFailure(error));
          if (error instanceof ProtocolError) {
            subscriber.next({ type: 'protocol-error', message: error.message });
          }
          transport.destroy();
        },
        complete: () => {
          closeReason(service.sessionEndReason);
          transport.end();
        },
      }),
    );
    // `closed` replays, so a transport that closed while the output was being set up is seen too.
    subscriber.add(
      transport.closed.subscribe(() => {
        subscriber.next({ type: 'closed', reason: reason ?? 'connection closed' });
        subscriber.complete();
      }),
    );
  });
}
