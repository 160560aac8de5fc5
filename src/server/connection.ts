import { Observable, Observer, Subscriber, take, Unsubscribable } from 'rxjs';
import { DecodingObserver } from '../protocol/decode-with';
import { ProtocolError } from '../protocol/protocol-error';
import { describeNetworkError } from '../transport/network-errors';
import { Transport } from '../transport/transport';
import { LimitActions, LimitWatch } from './limit-watch';
import { ConnectionLimits } from './limits';
import { ServerEvent } from './server-events';
import { Answer, Service, Session, SessionEffect, Signal, StopReason, UserId } from './service';
import { SignalListener, Switchboard } from './switchboard';
import { TrafficCounter } from './traffic';

/** What happens to one connection: it connects, may resume a user, may break the protocol, and disconnects. */
export type ConnectionEvent = Extract<
  ServerEvent,
  { type: 'connected' | 'resumed' | 'protocol-error' | 'warning' | 'limited' | 'disconnected' }
>;

export interface ConnectionPlan<Extra> {
  /** Where signals for users come from and go to. */
  readonly hub: Switchboard<Signal<Extra>>;
  readonly traffic: TrafficCounter;
  readonly acceptedAt: number;
  /** What this connection may do; no limit when absent. */
  readonly limits?: ConnectionLimits;
  /** The time in ms, for the limits. */
  readonly now?: () => number;
}

function hasLimits(limits: ConnectionLimits | undefined): limits is ConnectionLimits {
  return (
    limits !== undefined &&
    (limits.maxMsgsPerSec > 0 || limits.idleTimeoutMs > 0 || limits.frameTimeoutMs > 0)
  );
}

function describeFailure(error: unknown): string {
  if (error instanceof ProtocolError) return `protocol error: ${error.message}`;
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  return code === 'ECONNRESET' ? 'connection reset by the client' : describeNetworkError(error);
}

function isStop<Extra>(signal: Signal<Extra>): signal is { readonly stop: StopReason } {
  return typeof signal === 'object' && signal !== null && 'stop' in signal;
}

/** The chunks a connection reads, decoded, with its limits told of each. */
class WatchedReading<In> implements Observer<Buffer> {
  constructor(
    private readonly decoding: DecodingObserver<In>,
    private readonly limits: LimitWatch,
  ) {}

  next(chunk: Buffer): void {
    this.decoding.next(chunk);
    this.limits.onChunk(this.decoding.partial);
  }

  error(error: unknown): void {
    this.decoding.error(error);
  }

  complete(): void {
    this.decoding.complete();
  }
}

/** What arrived while the connection was busy, kept in order. */
type Held<In, Extra> = { readonly batch: readonly In[] } | { readonly signal: Signal<Extra> };

/**
 * A connection being served: it does what its session answers to each batch the user sends and
 * each signal it hears, one answer at a time, and ends the connection when the conversation ends
 * or it is told to stop. A class, not closures, because there is one per connected user and its
 * methods are shared. It is its own teardown, and the listener of its user's signals.
 */
class ServedConnection<In, Out, Extra>
  implements Observer<In[]>, LimitActions, SignalListener<Signal<Extra>>, Unsubscribable
{
  private readonly session: Session<In, Out, Extra>;
  private readonly decoding: DecodingObserver<In>;
  private readonly limits: LimitWatch | undefined;
  private user: UserId;
  private listening = false;
  private reason: string | undefined;
  private ending = false;
  /** An answer's work is outstanding: what arrives meanwhile is held, in order. */
  private busy = false;
  private held: Held<In, Extra>[] | undefined;
  /** Replies gathered while answering several things in a row, written at once. */
  private outbox: Out[] | undefined;

  constructor(
    private readonly transport: Transport,
    private readonly service: Service<In, Out, Extra>,
    private readonly connection: UserId,
    private readonly plan: ConnectionPlan<Extra>,
    private readonly events: Subscriber<ConnectionEvent>,
  ) {
    this.user = connection;
    this.session = service.session(connection, plan.hub);
    this.decoding = new DecodingObserver(service.incoming, this);
    if (hasLimits(plan.limits)) {
      this.limits = new LimitWatch(plan.limits, this, plan.now ?? Date.now);
    }
  }

  start(): void {
    this.listen();
    this.attempt(() => this.session.greet());
    this.limits?.start();
  }

  /** What the transport reads, decoded into batches for `next`. */
  reading(): Observer<Buffer> {
    return this.limits ? new WatchedReading(this.decoding, this.limits) : this.decoding;
  }

  /** A batch from the user. A fault in answering it closes this connection, nothing else. */
  next(batch: readonly In[]): void {
    this.plan.traffic.countIn(batch.length);
    if (this.ending) return;
    if (this.busy) this.hold({ batch });
    else this.attempt(() => this.session.answer(batch));
    this.limits?.onMessages(batch.length);
  }

  /** The input failed: a protocol error, a reset, or the transport giving up. */
  error(error: unknown): void {
    if (error instanceof ProtocolError && !this.ending) {
      this.events.next({ type: 'protocol-error', id: this.user, message: error.message });
    }
    this.watchClose(describeFailure(error));
    this.ending = true;
    this.transport.destroy();
  }

  complete(): void {
    this.end('client closed the connection');
  }

  /** Its end, whatever ended it: it hears no more signals, its timers stop, its socket is destroyed. */
  unsubscribe(): void {
    this.stopListening();
    this.limits?.unsubscribe();
    this.transport.destroy();
  }

  /** A signal for this connection's user. A stop does not wait for outstanding work. */
  hear(signal: Signal<Extra>): void {
    if (this.ending) return;
    if (this.busy && !isStop(signal)) this.hold({ signal });
    else this.attempt(() => this.session.hear(signal));
  }

  /** Over its rate: nothing more is read for `ms`. */
  pause(ms: number): void {
    this.transport.pauseFor(ms);
  }

  get readingNow(): boolean {
    return this.transport.reading;
  }

  slowedDown(message: string): void {
    this.limited('rate', message);
    this.hear({ limited: message });
  }

  idle(message: string): void {
    if (this.ending) return;
    this.limited('idle', message);
    this.hear({ stop: 'idle' });
  }

  unfinishedFrame(message: string): void {
    if (this.ending) return;
    this.limited('frame-timeout', message);
    this.watchClose(message);
    this.ending = true;
    this.transport.destroy();
  }

  private limited(limit: 'rate' | 'idle' | 'frame-timeout', message: string): void {
    this.events.next({ type: 'limited', id: this.user, limit, message });
  }

  private hold(item: Held<In, Extra>): void {
    if (this.held) this.held.push(item);
    else this.held = [item];
  }

  private attempt(answer: () => Answer<Out, Extra>): void {
    try {
      this.take(answer());
    } catch (error) {
      this.error(error);
    }
  }

  private take(answer: Answer<Out, Extra>): void {
    this.send(answer.replies);
    if (answer.effects) for (const effect of answer.effects) this.apply(effect);
    if (answer.close !== undefined) {
      this.end(answer.close);
    } else if (answer.then) {
      this.busy = true;
      this.events.add(
        answer.then.pipe(take(1)).subscribe({
          next: (next) => {
            this.busy = false;
            if (this.ending) return;
            this.gathering(() => {
              this.attempt(() => next);
              this.releaseHeld();
            });
          },
          error: (error: unknown) => this.error(error),
        }),
      );
    }
  }

  /** Answers what was held, until an answer makes the connection busy again. */
  private releaseHeld(): void {
    while (!this.busy && !this.ending && this.held && this.held.length > 0) {
      const first = this.held.shift() as Held<In, Extra>;
      if ('signal' in first) {
        this.attempt(() => this.session.hear(first.signal));
        continue;
      }
      // Batches held back to back are answered as one.
      const batch = [...first.batch];
      while (this.held[0] && 'batch' in this.held[0]) {
        batch.push(...(this.held.shift() as { readonly batch: readonly In[] }).batch);
      }
      this.attempt(() => this.session.answer(batch));
    }
    if (this.held?.length === 0) this.held = undefined;
  }

  private apply(effect: SessionEffect<Extra>): void {
    if ('become' in effect) {
      const from = this.user;
      this.stopListening();
      this.user = effect.become;
      this.listen();
      this.events.next({ type: 'resumed', connection: this.connection, from, id: this.user });
    } else if ('warn' in effect) {
      this.events.next({ type: 'warning', id: this.user, message: effect.warn });
    } else {
      this.plan.hub.send(effect.to, effect.signal);
    }
  }

  private listen(): void {
    this.plan.hub.listen(this.user, this);
    this.listening = true;
  }

  /** Once for each `listen`: a cluster's hub tells Redis the user left. */
  private stopListening(): void {
    if (!this.listening) return;
    this.listening = false;
    this.plan.hub.leave(this.user, this);
  }

  private send(batch: readonly Out[]): void {
    if (this.ending || batch.length === 0) return;
    if (this.outbox) this.outbox.push(...batch);
    else this.write(batch);
  }

  private write(batch: readonly Out[]): void {
    this.transport.write(this.service.outgoing.encode(batch));
    this.plan.traffic.countOut(batch.length);
  }

  /** Runs `answering`, writing every reply it gives in one write: one system call, not one each. */
  private gathering(answering: () => void): void {
    if (this.outbox) {
      answering();
      return;
    }
    this.outbox = [];
    try {
      answering();
    } finally {
      this.flushOutbox();
    }
  }

  private flushOutbox(): void {
    const gathered = this.outbox;
    this.outbox = undefined;
    if (gathered && gathered.length > 0 && !this.ending) this.write(gathered);
  }

  private end(why: string): void {
    this.watchClose(why);
    if (this.ending) return;
    this.flushOutbox();
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
        const { user: id, connection } = this;
        const { remoteAddress } = this.transport;
        // The user is no longer this server's, and the rest of the chat knows, before anyone
        // hears it left.
        this.stopListening();
        this.events.add(
          this.plan.hub.settled().subscribe({
            complete: () => {
              this.events.next({ type: 'disconnected', id, connection, remoteAddress, reason });
              this.events.complete();
            },
          }),
        );
      }),
    );
  }
}

/**
 * One connection's whole life as one stream, from `connected` to `disconnected`. The session's
 * greeting goes first; each batch the user sends is answered with one write; what other users
 * and the operator signal is answered too, and all of it is counted in `plan.traffic`. The end
 * of the conversation or a stop signal closes the connection gracefully, a failure at once.
 * Unsubscribing destroys the socket.
 */
export function serveConnection<In, Out, Extra>(
  transport: Transport,
  service: Service<In, Out, Extra>,
  id: UserId,
  plan: ConnectionPlan<Extra>,
): Observable<ConnectionEvent> {
  return new Observable<ConnectionEvent>((subscriber) => {
    const { remoteAddress } = transport;
    const { traffic, acceptedAt: at } = plan;
    subscriber.next({ type: 'connected', id, remoteAddress, at, traffic });
    const connection = new ServedConnection(transport, service, id, plan, subscriber);
    subscriber.add(connection);
    connection.start();
    subscriber.add(transport.chunks.subscribe(connection.reading()));
  });
}
