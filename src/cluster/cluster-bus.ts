import { Observable } from 'rxjs';
import { UserId } from '../server/service';
import { BusMessage, NodeSignal } from './bus-messages';

/** What a node says of itself in each heartbeat. */
export interface NodeStatus {
  /** A random token of this process: a second process with the same name is not this one. */
  readonly instance: string;
  /** Where it listens, as host:port. */
  readonly address: string;
  readonly startedAt: number;
  /** When it sent this, by its clock (ms since the epoch). */
  readonly heardAt: number;
  readonly framesIn: number;
  readonly framesOut: number;
  readonly stored: number;
  readonly delivered: number;
  readonly acknowledged: number;
  readonly refused: number;
}

/** A live node of the cluster, as its latest heartbeat and its users say. */
export interface LiveNode {
  readonly name: string;
  readonly status: NodeStatus;
  readonly users: readonly UserId[];
}

/**
 * A node's link to the others: who is connected where (presence), the node's heartbeat, and the
 * messages between nodes. Presence changes are sent as they happen and are not waited for;
 * after Redis was away they are all sent again (`claim`).
 */
export interface ClusterBus {
  readonly node: string;
  /** What the other nodes send this one, while subscribed. */
  readonly messages: Observable<BusMessage>;
  /** Each time the bus is back after Redis was away: messages may have been missed. */
  readonly reconnected: Observable<void>;
  /** This node speaks for user `id` now: resolves once Redis has it, or could not be told. */
  join(id: UserId): Promise<void>;
  /** This node speaks for user `id` no more: resolves once Redis has it, or could not be told. */
  leave(id: UserId): Promise<void>;
  publish(signal: NodeSignal): void;
  /**
   * Says this node is alive, for a few seconds, with `users`, the users it speaks for now; when
   * Redis lost track of them (its name expired, presence changes were lost while Redis was
   * away), claims the name again with them.
   */
  beat(status: NodeStatus, users: () => readonly UserId[]): Observable<void>;
  /** Takes this node's name, with the users it speaks for now; fails if a live node has it. */
  claim(status: NodeStatus, users: Iterable<UserId>): Observable<void>;
  /** This node stops: the others stop counting it now. Resolves once Redis has it, or could not be told. */
  depart(instance: string): Promise<void>;
  /** The live nodes, by name, with their users. */
  nodes(): Observable<readonly LiveNode[]>;
}
