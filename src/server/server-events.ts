import { LimitName } from './limits';
import { UserId } from './service';
import { TrafficCounter } from './traffic';

/** Everything that happens to a server, in order: its log, and the source of its state. */
export type ServerEvent =
  | { readonly type: 'listening'; readonly address: string }
  | {
      readonly type: 'connected';
      readonly id: UserId;
      readonly remoteAddress: string;
      readonly at: number;
      /** The user's live frame counts. */
      readonly traffic: Readonly<TrafficCounter>;
    }
  | {
      readonly type: 'refused';
      readonly remoteAddress: string;
      readonly reason: string;
      /** The limit that turned it away, when one did. */
      readonly limit?: 'per-address';
    }
  | {
      /** The connection accepted as user `from` speaks for user `id` from now on. */
      readonly type: 'resumed';
      readonly connection: UserId;
      readonly from: UserId;
      readonly id: UserId;
    }
  | { readonly type: 'protocol-error'; readonly id: UserId; readonly message: string }
  | {
      readonly type: 'disconnected';
      readonly id: UserId;
      /** The id the connection was accepted with. */
      readonly connection: UserId;
      readonly remoteAddress: string;
      readonly reason: string;
    }
  /** A limit slowed a connection down, or closed it. */
  | {
      readonly type: 'limited';
      readonly id: UserId;
      readonly limit: Exclude<LimitName, 'per-address'>;
      readonly message: string;
    }
  /** Something went wrong for one user that did not end its connection, such as a store failure. */
  | { readonly type: 'warning'; readonly id: UserId; readonly message: string }
  /** A TLS client whose handshake failed: never a user, and its socket is closed. */
  | {
      readonly type: 'tls-handshake-failed';
      readonly remoteAddress: string;
      readonly reason: string;
    }
  | { readonly type: 'shutting-down' };

/** What the operator asks the server to do. */
export type ServerControl =
  | { readonly type: 'kick'; readonly id: UserId }
  | { readonly type: 'broadcast'; readonly text: string }
  | { readonly type: 'shutdown' };

/** The event's line in the server's log. */
export function logLine(event: ServerEvent): string {
  switch (event.type) {
    case 'listening':
      return `listening on ${event.address}`;
    case 'connected':
      return `user ${event.id} connected from ${event.remoteAddress}`;
    case 'refused':
      return `refused a connection from ${event.remoteAddress}: ${event.reason}`;
    case 'resumed':
      return `user ${event.id} resumed, on the connection accepted as user ${event.from}`;
    case 'protocol-error':
      return `protocol error from user ${event.id}: ${event.message}`;
    case 'warning':
      return `warning for user ${event.id}: ${event.message}`;
    case 'limited':
      return `limit for user ${event.id}: ${event.message}`;
    case 'disconnected':
      return `user ${event.id} disconnected: ${event.reason}`;
    case 'tls-handshake-failed':
      return `TLS handshake failed from ${event.remoteAddress}: ${event.reason}`;
    case 'shutting-down':
      return 'shutting down';
  }
}
