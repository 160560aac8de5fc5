import { readFileSync } from 'node:fs';
import { defer, Observable, of, retry, throwError } from 'rxjs';
import {
  DEFAULT_PORT_RANGE,
  parsePortRange,
  PortRange,
  SourcePorts,
} from '../loadtest/source-addresses';
import { connect, LocalEnd } from '../transport/tcp';
import { connectTls, TlsTrust } from '../transport/tls';
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

/** A port someone else holds: bind() finds it bound, or connect() finds the same four-tuple. */
const portTaken = (error: unknown) => {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  return code === 'EADDRINUSE' || code === 'EADDRNOTAVAIL';
};

/**
 * One load-test connection to `host:port`, over TLS when `tls` is given. Without `source` the
 * kernel chooses its local end; with one, it comes from the source's address and a port of its
 * own, the next one while those are found taken.
 */
export function connectFrom(
  host: string,
  port: number,
  tls: TlsTrust | undefined,
  source: Source | undefined,
): Observable<Transport> {
  const open = (local: LocalEnd) =>
    tls === undefined
      ? connect(host, port, undefined, local)
      : connectTls(host, port, tls, undefined, local);
  if (source === undefined) return open({});
  const { address, ports } = source;
  // Each attempt takes the next port.
  return defer(() =>
    open({ localAddress: address, localPort: ports.take(address), family: 4 }),
  ).pipe(
    retry({
      count: ports.size - 1,
      delay: (error: unknown) => (portTaken(error) ? of(0) : throwError(() => error)),
    }),
  );
}
