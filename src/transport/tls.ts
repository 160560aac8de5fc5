import { Socket } from 'node:net';
import {
  connect as tlsConnect,
  createSecureContext,
  createServer,
  SecureContext,
  TLSSocket,
} from 'node:tls';
import { Observable } from 'rxjs';
import { describeNetworkError } from './network-errors';
import { TransportOptions } from './socket-transport';
import { connectWith, ListenerEvent, listenOn, LocalEnd, socketTransport } from './tcp';
import { Transport } from './transport';

/** What a TLS server shows its clients: its certificate (chain) and private key, in PEM. */
export interface TlsCredentials {
  readonly cert: string | Buffer;
  readonly key: string | Buffer;
  /** How long a client has to complete its handshake; by default DEFAULT_HANDSHAKE_TIMEOUT_MS. */
  readonly handshakeTimeoutMs?: number;
}

/** How a TLS client checks the server: against `ca` (PEM), or Node's CAs; not at all if `verify` is false. */
export interface TlsTrust {
  readonly ca?: string | Buffer;
  /** False: any certificate is taken (a test tool's choice, never a user's). True by default. */
  readonly verify?: boolean;
}

/** Node's own is two minutes: long for a connection that has not said a word of TLS yet. */
export const DEFAULT_HANDSHAKE_TIMEOUT_MS = 10_000;

/** What went wrong in TLS, in one line: OpenSSL's reason ("wrong version number") when it has one. */
export function describeTlsError(error: unknown): string {
  const reason = (error as { reason?: unknown } | null | undefined)?.reason;
  return typeof reason === 'string' && reason !== '' ? reason : describeNetworkError(error);
}

/** A connection that failed in TLS, said in one line. */
export class TlsError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TlsError';
  }
}

/** Like SocketTransport's remoteAddress. */
function peerOf(socket: Socket): string {
  return `${socket.remoteAddress ?? 'unknown'}:${socket.remotePort ?? 0}`;
}

/** A connection between its TCP accept and the end of its TLS handshake. */
interface Handshake {
  readonly socket: Socket;
  readonly onClose: () => void;
  /** Why it failed, when TLS said so before the socket closed. */
  reason?: string;
}

/**
 * A TLS listener as a stream, like `listen` in tcp.ts: one `listening` event, then one
 * `connection` per client once its TLS handshake has completed, each served by the same
 * SocketTransport. A handshake that fails (a plain TCP client, a client that does not trust the
 * certificate, garbage, silence past the handshake timeout) is one `tls-handshake-failed` event
 * and a closed socket. Unsubscribing stops accepting and cuts off handshakes under way; accepted
 * connections live on.
 */
export function listenTls(
  host: string,
  port: number,
  credentials: TlsCredentials,
  transportOptions?: TransportOptions,
): Observable<ListenerEvent> {
  const handshakeTimeoutMs = credentials.handshakeTimeoutMs ?? DEFAULT_HANDSHAKE_TIMEOUT_MS;
  const timedOut = `no handshake within ${handshakeTimeoutMs} ms`;
  return listenOn(host, port, (emit) => {
    const server = createServer({
      cert: credentials.cert,
      key: credentials.key,
      handshakeTimeout: handshakeTimeoutMs,
      // Not half-open until the handshake is done: a client that goes away during it is seen
      // at once, not at the timeout. Each connection is made half-open once secure.
    });
    // By the client's address: the TLS socket of a failed handshake may no longer know its
    // address, so every failure is told when its TCP socket closes, with the address it had.
    const handshakes = new Map<string, Handshake>();

    const onConnection = (socket: Socket) => {
      const from = peerOf(socket);
      const handshake: Handshake = {
        socket,
        onClose: () => {
          if (handshakes.get(from) !== handshake) return;
          handshakes.delete(from);
          const reason = handshake.reason ?? 'the connection closed during the handshake';
          emit({ type: 'tls-handshake-failed', remoteAddress: from, reason });
        },
      };
      handshakes.set(from, handshake);
      socket.once('close', handshake.onClose);
    };
    const onSecureConnection = (socket: TLSSocket) => {
      const from = peerOf(socket);
      const handshake = handshakes.get(from);
      handshakes.delete(from);
      handshake?.socket.off('close', handshake.onClose);
      // Half-open, as over TCP: a client may end its side and still wait for its replies.
      socket.allowHalfOpen = true;
      emit({ type: 'connection', transport: socketTransport(socket, transportOptions) });
    };
    const onClientError = (error: Error, socket: TLSSocket) => {
      const handshake =
        socket.remoteAddress === undefined ? undefined : handshakes.get(peerOf(socket));
      const timeout = (error as NodeJS.ErrnoException).code === 'ERR_TLS_HANDSHAKE_TIMEOUT';
      if (handshake) handshake.reason ??= timeout ? timedOut : describeTlsError(error);
      // Node leaves a socket that timed out open.
      socket.destroy();
    };
    server.on('connection', onConnection);
    server.on('secureConnection', onSecureConnection);
    server.on('tlsClientError', onClientError);
    return {
      server,
      stop: () => {
        server.off('connection', onConnection);
        server.off('secureConnection', onSecureConnection);
        server.off('tlsClientError', onClientError);
        const cutOff = [...handshakes.values()];
        handshakes.clear();
        for (const { socket } of cutOff) socket.destroy();
      },
    };
  });
}

/** What a TLS client's failure to connect means, in one line. */
function connectFailure(error: Error, socket: TLSSocket): Error {
  // Set (a code or a message) when the handshake went through and the certificate did not.
  const rejected: unknown = socket.authorizationError;
  if (rejected) {
    return new TlsError(`the server's certificate is not trusted: ${describeNetworkError(error)}`);
  }
  const reason = (error as { reason?: unknown }).reason;
  if (typeof reason === 'string' && reason !== '') {
    return new TlsError(`TLS handshake failed (${reason}): is the server serving TLS?`);
  }
  return error;
}

/**
 * The secure context of a trust, made once for each trust object: the connections of one client
 * that trust the same share it (one a connection cost the load tester 0.6 ms of CPU each).
 */
const contexts = new WeakMap<TlsTrust, SecureContext>();

function contextOf(trust: TlsTrust): SecureContext {
  let context = contexts.get(trust);
  if (!context) {
    context = createSecureContext(trust.ca === undefined ? {} : { ca: trust.ca });
    contexts.set(trust, context);
  }
  return context;
}

/**
 * Connects to a TLS server, like `connect` in tcp.ts: emits the transport once the handshake has
 * completed and the server's certificate was verified for `host` (unless `trust.verify` is
 * false), or errors in one line.
 */
export function connectTls(
  host: string,
  port: number,
  trust: TlsTrust = {},
  transportOptions?: TransportOptions,
  local: LocalEnd = {},
): Observable<Transport> {
  return connectWith(
    () => {
      const socket = tlsConnect({
        host,
        port,
        ...local,
        rejectUnauthorized: trust.verify ?? true,
        secureContext: contextOf(trust),
      });
      // Half-open, as over TCP: it ends its side and still reads the server's last replies.
      socket.allowHalfOpen = true;
      return socket;
    },
    'secureConnect',
    transportOptions,
    connectFailure,
  );
}
