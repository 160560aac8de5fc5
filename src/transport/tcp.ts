import { AddressInfo, createConnection, createServer, Socket } from 'node:net';
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
  | { readonly type: 'connection'; readonly transport: Transport };

/** `host:port`, with IPv6 hosts in brackets. */
export function formatAddress(host: string, port: number): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}

function configure(socket: Socket, options?: TransportOptions): Socket {
  socket.setNoDelay(true);
  if (options?.keepAliveMs) socket.setKeepAlive(true, options.keepAliveMs);
  return socket;
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
  return new Observable<ListenerEvent>((subscriber) => {
    // Half-open: a client may end its side and still wait for its replies.
    const server = createServer({ allowHalfOpen: true });
    const onConnection = (socket: Socket) =>
      subscriber.next({
        type: 'connection',
        transport: new SocketTransport(configure(socket, transportOptions), transportOptions),
      });
    const onError = (error: Error) => subscriber.error(error);
    server.on('connection', onConnection);
    server.on('error', onError);
    server.listen({ port, host, backlog: LISTEN_BACKLOG }, () => {
      const { address, port: boundPort } = server.address() as AddressInfo;
      subscriber.next({ type: 'listening', address: formatAddress(address, boundPort) });
    });
    return () => {
      server.off('connection', onConnection);
      server.off('error', onError);
      server.close();
    };
  });
}

/** Connects to a TCP server: emits the connection's transport once, or errors. */
export function connect(
  host: string,
  port: number,
  transportOptions?: TransportOptions,
): Observable<Transport> {
  return new Observable<Transport>((subscriber) => {
    const socket = createConnection({ host, port, allowHalfOpen: true });
    let connected = false;
    const onConnect = () => {
      connected = true;
      socket.off('error', onError);
      subscriber.next(new SocketTransport(configure(socket, transportOptions), transportOptions));
      subscriber.complete();
    };
    const onError = (error: Error) => subscriber.error(error);
    socket.once('connect', onConnect);
    socket.once('error', onError);
    return () => {
      socket.off('connect', onConnect);
      // Given up before it connected: destroyed, or it would connect anyway and stay open.
      // `onError` stays, to hear an error that may already be on its way.
      if (!connected) socket.destroy();
    };
  });
}
