import {
  catchError,
  concat,
  defer,
  EMPTY,
  filter,
  ignoreElements,
  map,
  merge,
  Observable,
  of,
  scan,
  share,
  take,
  takeUntil,
  takeWhile,
  tap,
} from 'rxjs';
import { ListenerEvent } from '../transport/tcp';
import { Transport } from '../transport/transport';
import { serveConnection } from './connection';
import { ServerControl, ServerEvent } from './server-events';
import { ConnectionLimits } from './limits';
import { mergeEach } from './merge-each';
import { foldEvent, hostOf, initialServerState, ServerState } from './server-state';
import { Service, Signal, UserId } from './service';
import { SignalHub } from './signal-hub';
import { Switchboard } from './switchboard';
import { TrafficCounter } from './traffic';

export interface ServerOptions<Extra = never> {
  /** Users served at once; one more is refused. */
  readonly maxClients: number;
  /** The last id given out before this server started: the first user gets the one after. */
  readonly lastUserId?: UserId;
  /**
   * The id of the next user, given the last one this server accepted; undefined when no id can
   * be given out now, and the connection is refused. By default, the one after the last.
   */
  readonly nextId?: (last: UserId) => UserId | undefined;
  /** Where signals between users go; by default this server's own SignalHub. */
  readonly switchboard?: Switchboard<Signal<Extra>>;
  /** Connections one remote host may have at once; 0 or absent: no limit. */
  readonly maxClientsPerAddress?: number;
  /** What each connection may do; none by default. */
  readonly limits?: ConnectionLimits;
}

/** An event and the server's state just after it. */
export interface ServerUpdate {
  readonly event: ServerEvent;
  readonly state: ServerState;
}

/**
 * A server as a stream: it accepts connections from `listener$`, serves each with `service`,
 * obeys `control$`, and emits every event with the state it leads to. A `shutdown` control stops
 * accepting and closes every connection gracefully; the stream completes once all are closed.
 */
export function runServer<In, Out, Extra>(
  listener$: Observable<ListenerEvent>,
  control$: Observable<ServerControl>,
  service: Service<In, Out, Extra>,
  options: ServerOptions<Extra>,
  clock: () => number = Date.now,
): Observable<ServerUpdate> {
  return defer(() => {
    const traffic = new TrafficCounter();
    let state = initialServerState(clock(), traffic, options.lastUserId);
    const controls$ = control$.pipe(share());
    const shutdown$ = controls$.pipe(
      filter((control) => control.type === 'shutdown'),
      take(1),
      share(),
    );
    const hub = options.switchboard ?? new SignalHub<Signal<Extra>>();
    const nextId = options.nextId ?? ((last: UserId) => last + 1n);
    // Until shutdown, which is signalled too: then every connection closes and the server ends.
    const signalled$ = controls$.pipe(
      takeWhile((control) => control.type !== 'shutdown', true),
      tap((control) => {
        if (control.type === 'broadcast') hub.broadcast({ announce: control.text });
        else if (control.type === 'kick') hub.send(control.id, { stop: 'kicked' });
        else hub.broadcastHere({ stop: 'shutdown' });
      }),
      ignoreElements(),
    );

    const refuse = (
      transport: Transport,
      reason: string,
      limit?: 'per-address',
    ): Observable<ServerEvent> =>
      defer(() => {
        transport.write(service.outgoing.encode(service.refusal));
        transport.end();
        const refused: ServerEvent = {
          type: 'refused',
          remoteAddress: transport.remoteAddress,
          reason,
          ...(limit ? { limit } : {}),
        };
        // Reading on lets the socket see the client's close; what it sends is dropped.
        return concat(
          of(refused),
          transport.chunks.pipe(
            ignoreElements(),
            catchError(() => EMPTY),
          ),
        );
      });

    const admit = (transport: Transport): Observable<ServerEvent> => {
      if (state.shuttingDown) return refuse(transport, 'the server is shutting down');
      if (state.stats.usersNow >= options.maxClients) {
        return refuse(transport, `the server is full (${options.maxClients} users)`);
      }
      const perAddress = options.maxClientsPerAddress ?? 0;
      const host = hostOf(transport.remoteAddress);
      if (perAddress > 0 && (state.connectionsFrom.get(host) ?? 0) >= perAddress) {
        const reason = `too many connections from ${host} (${perAddress} at most)`;
        return refuse(transport, reason, 'per-address');
      }
      const id = nextId(state.lastId);
      if (id === undefined) return refuse(transport, 'no user id can be given out now');
      const plan = {
        hub,
        traffic: new TrafficCounter(traffic),
        acceptedAt: clock(),
        ...(options.limits ? { limits: options.limits, now: clock } : {}),
      };
      return serveConnection(transport, service, id, plan);
    };

    const event$ = merge(
      listener$.pipe(
        takeUntil(shutdown$),
        mergeEach((event): Observable<ServerEvent> =>
          event.type === 'connection' ? admit(event.transport) : of(event),
        ),
      ),
      shutdown$.pipe(map((): ServerEvent => ({ type: 'shutting-down' }))),
      signalled$,
    );
    return event$.pipe(
      scan<ServerEvent, ServerUpdate, Pick<ServerUpdate, 'state'>>(
        (previous, event) => ({
          event,
          state: foldEvent(previous.state, event),
        }),
        { state },
      ),
      // Admission reads the latest state: who is connected, the last id, whether shutting down.
      tap((update) => (state = update.state)),
    );
  });
}
