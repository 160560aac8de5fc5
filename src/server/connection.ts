import { Observable, Observer, Subscriber } from 'rxjs';
import { DecodingObserver } from '../protocol/decode-with';
import { ProtocolError } from '../protocol/protocol-error';
import { describeNetworkError } from '../transport/network-errors';
import { Transport } from '../transport/transport';
import { ServerEvent } from './server-events';
import { Service, Session, UserId } from './service';
import { TrafficCounter } from './traffic';

/** What happens to one connection: it connects, may break the protocol, and disconnects. */
export type ConnectionEvent = Extract<
  ServerEvent,
  { type: 'connected' | 'protocol-error' | 'disconnected' }
>;

/** What the server tells one connection: frames to send it unprompted, or to stop, and why. */
export type ConnectionSignal<Out> = { readonly push: readonly Out[] } | { readonly stop: string };

export interface ConnectionPlan<Out> {
  readonly signal$: Observable<ConnectionSignal<Out>>;
  readonly traffic: TrafficCounter;
  readonly acceptedAt: number;
}

function describeFailure(error: unknown): string {
  if (error instanceof ProtocolError) return `protocol error: ${error.message}`;
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  return code === 'ECONNRESET' ? 'connection reset by the client' : describeNetworkError(error);
}

/**
 * A connection being served: it answers each batch the user sends, sends what the server
 * pushes, and ends the connection when the conversation ends or it is told to stop. A class,
 * not closures, because there is one per connected user and its methods are shared.
 */
class ServedConnection<In, Out> implements Observer<In[]> {
  private readonly session: Session<In, Out>;
  private reason: string | undefined;
  private ending = false;

  constructor(
    private readonly transport: Transport,
    private readonly service: Service<In, Out>,
    private readonly id: UserId,
    private readonly traffic: TrafficCounter,
    private readonly events: Subscriber<ConnectionEvent>,
  ) {
    this.session = service.session(id);
  }

  greet(): void {
    this.send(this.session.greeting);
  }

  /** A batch from the user. A fault in answering it closes this connection, nothing else. */
  next(batch: readonly In[]): void {
    this.traffic.countIn(batch.length);
    if (this.ending) return;
    try {
      const { replies, last } = this.session.answer(batch);
      this.send(replies);
      if (last) this.end(this.service.sessionEndReason);
    } catch (error) {
      this.error(error);
    }
  }

  /** The input failed: a protocol error, a reset, or the transport giving up. */
  error(error: unknown): void {
    if (error instanceof ProtocolError && !this.ending) {
      this.events.next({ type: 'protocol-error', id: this.id, message: error.message });
    }
    this.watchClose(describeFailure(error));
    this.ending = true;
    this.transport.destroy();
  }

  complete(): void {
    this.end('client closed the connection');
  }

  signal(signal: ConnectionSignal<Out>): void {
    if ('push' in signal) this.send(signal.push);
    else this.end(signal.stop);
  }

  private send(batch: readonly Out[]): void {
    if (this.ending || batch.length === 0) return;
    this.transport.write(this.service.outgoing.encode(batch));
    this.traffic.countOut(batch.length);
  }

  private end(why: string): void {
    this.watchClose(why);
    if (this.ending) return;
    this.ending = true;
    this.transport.end();
  }

  /**
   * The socket can close only once its input has ended, or once the server ends or destroys
   * it: only then is its close watched, so that an idle connection holds no more than it must.
   */
  private watchClose(reason: string): void {
    if (this.reason !== undefined) return;
    this.reason = reason;
    this.events.add(
      this.transport.closed.subscribe(() => {
        this.events.next({ type: 'disconnected', id: this.id, reason });
        this.events.complete();
      }),
    );
  }
}

/**
 * One connection's whole life as one stream, from `connected` to `disconnected`. The session's
 * greeting goes first; each batch the user sends is answered with one write; what the server
 * pushes is written too, and all of it is counted in `plan.traffic`. The end of the
 * conversation or a stop signal closes the connection gracefully, a failure at once.
 * Unsubscribing destroys the socket.
 */
export function serveConnection<In, Out>(
  transport: Transport,
  service: Service<In, Out>,
  id: UserId,
  { signal$, traffic, acceptedAt }: ConnectionPlan<Out>,
): Observable<ConnectionEvent> {
  return new Observable<ConnectionEvent>((subscriber) => {
    const { remoteAddress } = transport;
    subscriber.next({ type: 'connected', id, remoteAddress, at: acceptedAt, traffic });
    const connection = new ServedConnection(transport, service, id, traffic, subscriber);
    subscriber.add(() => transport.destroy());
    connection.greet();
    subscriber.add(transport.chunks.subscribe(new DecodingObserver(service.incoming, connection)));
    subscriber.add(signal$.subscribe((signal) => connection.signal(signal)));
  });
}
