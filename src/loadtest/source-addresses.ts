import { isIPv4 } from 'node:net';

/** The ephemeral ports the kernel gives outgoing connections, `low` to `high`, both included. */
export interface PortRange {
  readonly low: number;
  readonly high: number;
}

/** Linux's default `net.ipv4.ip_local_port_range`, for when the machine's cannot be read. */
export const DEFAULT_PORT_RANGE: PortRange = { low: 32768, high: 60999 };

/**
 * The range in the text of /proc/sys/net/ipv4/ip_local_port_range ("32768\t60999\n"), or
 * undefined when the text is not one.
 */
export function parsePortRange(text: string): PortRange | undefined {
  const match = /^\s*(\d+)\s+(\d+)\s*$/.exec(text);
  const low = Number(match?.[1]);
  const high = Number(match?.[2]);
  return low >= 1 && low <= high && high <= 65535 ? { low, high } : undefined;
}

/** Whether `host` is this machine's IPv4 loopback: `localhost`, or an address in 127.0.0.0/8. */
export function isLoopback(host: string): boolean {
  return host === 'localhost' || (isIPv4(host) && host.startsWith('127.'));
}

/**
 * Connections one source address is given: half of its ephemeral ports, leaving the rest to the
 * machine's other connections and to ports still in TIME_WAIT.
 */
export const connectionsPerAddress = (range: PortRange) =>
  Math.max(1, Math.floor((range.high - range.low + 1) / 2));

/**
 * How many source addresses `clients` connections to `host` are spread over: as many as the
 * ports need on the loopback, where every 127.0.0.x is this machine's; one anywhere else.
 */
export function sourceAddressCount(host: string, clients: number, range: PortRange): number {
  return isLoopback(host) ? Math.max(1, Math.ceil(clients / connectionsPerAddress(range))) : 1;
}

/** Address `n` (1, 2, …) of the loopback: 127.0.0.1, …, 127.0.0.255, 127.0.1.0, … */
const loopbackAddress = (n: number) => `127.${(n >> 16) & 255}.${(n >> 8) & 255}.${n & 255}`;

/**
 * The source address of client `index` (0, 1, …) among `count` addresses: with one, undefined
 * (the kernel chooses, as for any connection); with more, they take turns from 127.0.0.2, and
 * 127.0.0.1, where the machine's other connections come from, is left to them.
 */
export function sourceAddressOf(index: number, count: number): string | undefined {
  return count > 1 ? loopbackAddress(2 + (index % count)) : undefined;
}

/**
 * The source ports of connections from given addresses, chosen here, not by the kernel: a bind()
 * to port 0 searches the range for a free port, and 15,000 connections from two addresses took
 * 42 s that way against 4 s with their ports chosen. Each address goes through the range in turn
 * from its low end; a port that turns out to be taken is skipped by taking the next.
 */
export class SourcePorts {
  private readonly next = new Map<string, number>();

  constructor(private readonly range: PortRange) {}

  /** How many ports there are: taking as many more comes back to the same port. */
  get size(): number {
    return this.range.high - this.range.low + 1;
  }

  take(address: string): number {
    const port = this.next.get(address) ?? this.range.low;
    this.next.set(address, port === this.range.high ? this.range.low : port + 1);
    return port;
  }
}
