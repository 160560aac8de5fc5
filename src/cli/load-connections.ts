import { readFileSync } from 'node:fs';
import { createConnection, Socket } from 'node:net';
import { ConnectionOptions, connect as tlsConnect, createSecureContext, TLSSocket } from 'node:tls';
import { Observable, of, retry, throwError } from 'rxjs';
import {
  DEFAULT_PORT_RANGE,
  parsePortRange,
  PortRange,
  SourcePorts,
} from '../loadtest/source-addresses';
import { connectWith } from '../transport/tcp';
import { connectFailure, TlsTrust } from '../transport/tls';
import { Transport } from '../transport/transport';

/** The machine's ephemeral port range, or Linux's default where it cannot be read. */
export function localPortRange(): PortRange {
  try {
    const text = readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8');
    return parsePortRange(text) ?? DEFAULT_PORT_RANGE;
  } catch {
    return DEFAULT_PORT_RANGE;
  }
}

/** Where a connection comes from: an address, with a port taken from `ports` for each attempt. */
export interface Source {
  readonly address: string;
  readonly ports: SourcePorts;
}

/** The TCP options of a connection's local end: none for the kernel's choice. */
interface LocalEnd {
  readonly localAddress?: string;
  readonly localPort?: number;
  /** An IPv4 source needs an IPv4 destination, and `localhost` may be ::1 first. */
  readonly family?: 4;
}

/**
 * What TLS clients trusting `trust` share: one secure context, made once (one a connection cost
 * the load tester 0.6 ms of CPU each).
 */
export type TlsClient = Pick<ConnectionOptions, 'rejectUnauthorized' | 'secureContext'>;

export function tlsClient(trust: TlsTrust): TlsClient {
  const context = createSecureContext(trust.ca === undefined ? {} : { ca: trust.ca });
  return { rejectUnauthorized: trust.verify ?? true, secureContext: context };
}

function openSocket(host: string, port: number, local: LocalEnd, tls?: TlsClient): Socket {
  if (tls === undefined) return createConnection({ host, port, allowHalfOpen: true, ...local });
  // tls.connect hands its TCP options, the local end among them, to the socket's connect.
  const socket = tlsConnect({ host, port, ...local, ...tls });
  // Half-open, as over TCP: it ends its side and still reads the server's last replies.
  socket.allowHalfOpen = true;
  return socket;
}

/** Over TLS, a failure is said as the chat client says it (an untrusted certificate, a server not serving TLS). */
function failure(error: Error, socket: Socket): Error {
  return socket instanceof TLSSocket ? connectFailure(error, socket) : error;
}

/** A port someone else holds: bind() finds it bound, or connect() finds the same four-tuple. */
const portTaken = (error: unknown) => {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  return code === 'EADDRINUSE' || code === 'EADDRNOTAVAIL';
};

/**
 * One load-test connection to `host:port`, over TLS when `tls` is given: transport's `connect`
 * and `connectTls`, with a local end. Without `source` the kernel chooses it; with one, it comes
 * from the source's address and a port of its own, the next one while those are found taken.
 */
export function connectFrom(
  host: string,
  port: number,
  tls: TlsClient | undefined,
  source: Source | undefined,
): Observable<Transport> {
  const ready = tls === undefined ? 'connect' : 'secureConnect';
  if (source === undefined) {
    return connectWith(() => openSocket(host, port, {}, tls), ready, undefined, failure);
  }
  const { address, ports } = source;
  // Each attempt takes the next port: connectWith opens a new socket each time it is subscribed.
  return connectWith(
    () => {
      const local = { localAddress: address, localPort: ports.take(address), family: 4 } as const;
      return openSocket(host, port, local, tls);
    },
    ready,
    undefined,
    failure,
  ).pipe(
    retry({
      count: ports.size - 1,
      delay: (error: unknown) => (portTaken(error) ? of(0) : throwError(() => error)),
    }),
  );
}
