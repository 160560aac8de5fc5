import { AddressInfo, createConnection, createServer, Server, Socket } from 'node:net';
import { Observable } from 'rxjs';
import { SocketTransport, TransportOptions } from './socket-transport';
import { Transport } from './transport';

/**
 * Connections the kernel may hold for the server to accept: a burst of connects beyond it has
 * SYNs dropped, and those clients wait a second to retry. Linux caps it at net.core.somaxconn.
 */
const LISTEN_BACKLOG = 4096;

export type ListenerEvent =
  | { readonly type: 'listening'; readonly address: string }
  | { readonly type: 'connection'; readonly transport: Transport }
  /** A TLS client whose handshake failed: it was never a connection. */
  | {
      readonly type: 'tls-handshake-failed';
      readonly remoteAddress: string;
      readonly reason: string;
    };

/** `host:port`, with IPv6 hosts in brackets. */
export function formatAddress(host: string, port: number): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}

function configure(socket: Socket, options?: TransportOptions): Socket {
  socket.setNoDelay(true);
  if (options?.keepAliveMs) socket.setKeepAlive(true, options.keepAliveMs);
  return socket;
}

/** A socket ready to serve, as a transport. */
export function socketTransport(socket: Socket, transportOptions?: TransportOptions): Transport {
  return new SocketTransport(configure(socket, transportOptions), transportOptions);
}

/** A server a listener runs, with how it stops watching it. */
export interface Acceptor {
  readonly server: Server;
  /** Removes the acceptor's listeners, when the listener is unsubscribed. */
  readonly stop: () => void;
}

/**
 * A listener as a stream, whatever its server: one `listening` event with the real address, then
 * what `accept` emits for the server it makes. Unsubscribing stops accepting and closes the server;
 * it errors when it cannot listen (for example, the port is taken).
 */
export function listenOn(
  host: string,
  port: number,
  accept: (emit: (event: ListenerEvent) => void) => Acceptor,
): Observable<ListenerEvent> {
  return new Observable<ListenerEvent>((subscriber) => {
    const { server, stop } = accept((event) => subscriber.next(event));
    const onError = (error: Error) => subscriber.error(error);
    server.on('error', onError);
    server.listen({ port, host, backlog: LISTEN_BACKLOG }, () => {
      const { address, port: boundPort } = server.address() as AddressInfo;
      subscriber.next({ type: 'listening', address: formatAddress(address, boundPort) });
    });
    return () => {
      stop();
      server.off('error', onError);
      server.close();
    };
  });
}

/**
 * A TCP listener as a stream: one `listening` event with the real address, then one
 * `connection` per accepted socket. Unsubscribing stops accepting; accepted connections live on.
 * It errors when it cannot listen (for example, the port is taken).
 */
export function listen(
  host: string,
  port: number,
  transportOptions?: TransportOptions,
): Observable<ListenerEvent> {
  return listenOn(host, port, (emit) => {
    // Half-open: a client may end its side and still wait for its replies.
    const server = createServer({ allowHalfOpen: true });
    const onConnection = (socket: Socket) =>
      emit({ type: 'connection', transport: socketTransport(socket, transportOptions) });
    server.on('connection', onConnection);
    return { server, stop: () => server.off('connection', onConnection) };
  });
}

/**
 * Connects a socket that `open` makes: emits its transport once `readyEvent` says it is ready to
 * serve, or errors with what `failure` makes of the socket's error.
 */
export function connectWith<S extends Socket>(
  open: () => S,
  readyEvent: 'connect' | 'secureConnect',
  transportOptions?: TransportOptions,
  failure: (error: Error, socket: S) => Error = (error) => error,
): Observable<Transport> {
  return new Observable<Transport>((subscriber) => {
    const socket = open();
    let connected = false;
    const onConnect = () => {
      connected = true;
      socket.off('error', onError);
      subscriber.next(socketTransport(socket, transportOptions));
      subscriber.complete();
    };
    const onError = (error: Error) => subscriber.error(failure(error, socket));
    socket.once(readyEvent, onConnect);
    socket.once('error', onError);
    return () => {
      socket.off(readyEvent, onConnect);
      // Given up before it connected: destroyed, or it would connect anyway and stay open.
      // `onError` stays, to hear an error that may already be on its way.
      if (!connected) socket.destroy();
    };
  });
}

/** Where a connection comes from: the kernel's choice when absent. */
export interface LocalEnd {
  readonly localAddress?: string;
  readonly localPort?: number;
  /** An IPv4 source needs an IPv4 destination, and `localhost` may be ::1 first. */
  readonly family?: 4;
}

/** Connects to a TCP server, from `local`: emits the connection's transport once, or errors. */
export function connect(
  host: string,
  port: number,
  transportOptions?: TransportOptions,
  local: LocalEnd = {},
): Observable<Transport> {
  return connectWith(
    () => createConnection({ host, port, allowHalfOpen: true, ...local }),
    'connect',
    transportOptions,
  );
}
