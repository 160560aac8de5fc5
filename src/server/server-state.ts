import { LimitName } from './limits';
import { ServerEvent } from './server-events';
import { UserId } from './service';
import { TrafficCounter } from './traffic';

export interface UserRecord {
  readonly id: UserId;
  /** The id its connection was accepted with: `id` too, unless it resumed another user. */
  readonly connection: UserId;
  readonly remoteAddress: string;
  readonly connectedAt: number;
  readonly traffic: Readonly<TrafficCounter>;
}

export interface ServerStats {
  readonly startedAt: number;
  /** Users connected now: +1 at each connect, -1 at each disconnect. */
  readonly usersNow: number;
  readonly peakUsers: number;
  readonly totalConnections: number;
  readonly refused: number;
  readonly protocolErrors: number;
  /** Connections each limit turned away (per address), slowed (rate) or closed. */
  readonly limited: Readonly<Record<LimitName, number>>;
}

export interface ServerState {
  readonly stats: ServerStats;
  /** The id of the last user accepted: the next one gets the id after it. */
  readonly lastId: UserId;
  readonly shuttingDown: boolean;
  readonly users: ReadonlyMap<UserId, UserRecord>;
  /** Frames in and out of every connection so far, counted live. */
  readonly traffic: Readonly<TrafficCounter>;
  /** How many connections each remote host has now (the address without its port). */
  readonly connectionsFrom: ReadonlyMap<string, number>;
}

/** The host of `host:port` (IPv6 hosts as they are, without brackets). */
export function hostOf(remoteAddress: string): string {
  const colon = remoteAddress.lastIndexOf(':');
  const host = colon < 0 ? remoteAddress : remoteAddress.slice(0, colon);
  return host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;
}

export function initialServerState(
  startedAt: number,
  traffic: Readonly<TrafficCounter> = new TrafficCounter(),
  lastId: UserId = 0n,
): ServerState {
  return {
    stats: {
      startedAt,
      usersNow: 0,
      peakUsers: 0,
      totalConnections: 0,
      refused: 0,
      protocolErrors: 0,
      limited: { 'per-address': 0, rate: 0, idle: 0, 'frame-timeout': 0 },
    },
    lastId,
    shuttingDown: false,
    users: new Map(),
    traffic,
    connectionsFrom: new Map(),
  };
}

function bump(limited: ServerStats['limited'], limit: LimitName): ServerStats['limited'] {
  return { ...limited, [limit]: limited[limit] + 1 };
}

/** Counts the connections of each host, in place, as the users table. */
function countHosts(connectionsFrom: Map<string, number>, event: ServerEvent): void {
  if (event.type !== 'connected' && event.type !== 'disconnected') return;
  const host = hostOf(event.remoteAddress);
  const count = (connectionsFrom.get(host) ?? 0) + (event.type === 'connected' ? 1 : -1);
  if (count > 0) connectionsFrom.set(host, count);
  else connectionsFrom.delete(host);
}

function tally(stats: ServerStats, event: ServerEvent): ServerStats {
  switch (event.type) {
    case 'connected': {
      const usersNow = stats.usersNow + 1;
      return {
        ...stats,
        usersNow,
        peakUsers: Math.max(stats.peakUsers, usersNow),
        totalConnections: stats.totalConnections + 1,
      };
    }
    case 'disconnected':
      return { ...stats, usersNow: stats.usersNow - 1 };
    case 'refused':
      return {
        ...stats,
        refused: stats.refused + 1,
        ...(event.limit ? { limited: bump(stats.limited, event.limit) } : {}),
      };
    case 'limited':
      return { ...stats, limited: bump(stats.limited, event.limit) };
    case 'protocol-error':
      return { ...stats, protocolErrors: stats.protocolErrors + 1 };
    case 'listening':
    case 'resumed':
    case 'warning':
    case 'tls-handshake-failed':
    case 'shutting-down':
      return stats;
  }
}

/**
 * Keeps the table of connected users, in place: copying it for every event would cost O(users).
 * A user resumed on a new connection replaces the one on its old connection, whose disconnect
 * then leaves the table alone.
 */
function updateUsers(users: Map<UserId, UserRecord>, event: ServerEvent): void {
  switch (event.type) {
    case 'connected': {
      const { id, remoteAddress, at, traffic } = event;
      users.set(id, { id, connection: id, remoteAddress, connectedAt: at, traffic });
      return;
    }
    case 'resumed': {
      const record = users.get(event.from);
      if (record?.connection !== event.connection) return;
      users.delete(event.from);
      users.set(event.id, { ...record, id: event.id });
      return;
    }
    case 'disconnected':
      if (users.get(event.id)?.connection === event.connection) users.delete(event.id);
      return;
    default:
      return;
  }
}

/**
 * Folds one event into the state: the reducer of the server's `scan`. The counters are new
 * values each time; the users table is the one map of the scan that folds it, updated in place,
 * so a state must come from `initialServerState` and belong to one scan.
 */
export function foldEvent(state: ServerState, event: ServerEvent): ServerState {
  updateUsers(state.users as Map<UserId, UserRecord>, event);
  countHosts(state.connectionsFrom as Map<string, number>, event);
  return {
    ...state,
    stats: tally(state.stats, event),
    lastId: event.type === 'connected' ? event.id : state.lastId,
    shuttingDown: state.shuttingDown || event.type === 'shutting-down',
  };
}
