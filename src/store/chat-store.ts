import { Observable } from 'rxjs';
import { UserId } from '../server/service';

/** A user as the store keeps it. Deliveries `acknowledged + 1 … lastDelivery` are waiting. */
export interface StoredUser {
  readonly id: UserId;
  /** SHA-256 of the user's secret: the secret itself is never stored. */
  readonly secretHash: Buffer;
  /** The delivery number of the user's latest direct message: 0 before the first. */
  readonly lastDelivery: bigint;
  /** Every delivery up to this number is acknowledged (and deleted). */
  readonly acknowledged: bigint;
}

/** A known user for the operator: how many deliveries wait for it. */
export interface UserSummary {
  readonly id: UserId;
  readonly waiting: bigint;
}

/** A direct message to store. Its text and ids travel as the client sent them. */
export interface Outgoing {
  readonly from: UserId;
  readonly recipient: UserId;
  readonly msg: string;
  /** Whether it is written to the recipient's connection right after it is stored. */
  readonly sentNow: boolean;
}

/** What became of one Outgoing: stored with its delivery number, or refused. */
export type StoreOutcome =
  | {
      readonly delivery: bigint;
      /**
       * Whether the recipient was connected when it was stored, as a store shared by several
       * servers sees it (it passes the delivery on to the recipient's server); an embedded
       * store leaves this to the server.
       */
      readonly online?: boolean;
    }
  | { readonly refused: 'unknown-recipient' | 'mailbox-full' };

/** A stored direct message as it is delivered. */
export interface StoredDelivery {
  readonly delivery: bigint;
  readonly from: UserId;
  readonly msg: string;
  /** It was written to a connection of the recipient's before. */
  readonly redelivered: boolean;
}

/** What one step of one connection writes, in one round trip. */
export interface StoreWrite {
  readonly messages: readonly Outgoing[];
  /** Acknowledges (and deletes) `user`'s deliveries up to `upTo`. */
  readonly acknowledge?: { readonly user: UserId; readonly upTo: bigint };
}

/**
 * Where users and their direct messages are kept. Every method is one round trip: nothing
 * happens until the observable is subscribed, and what it emits (once, then it completes) is
 * durable. An adapter may gather the calls made in one turn of the event loop into one
 * transaction (group commit).
 */
export interface ChatStore {
  /** The highest user id ever given out, read when the server starts. */
  readonly lastUserId: UserId;
  /** Adds a user with a fresh id. */
  addUser(id: UserId, secretHash: Buffer): Observable<void>;
  findUser(id: UserId): Observable<StoredUser | undefined>;
  /** Forgets a user if nothing waits for it; its id is never given out again. */
  releaseUser(id: UserId): Observable<void>;
  /**
   * Stores direct messages, in order, each with the recipient's next delivery number unless
   * the recipient is unknown or already has `maxPending` waiting; and records acknowledgements.
   */
  write(write: StoreWrite, maxPending: number): Observable<readonly StoreOutcome[]>;
  /** `user`'s waiting deliveries after the number `after`, in order, at most `limit` of them. */
  waiting(user: UserId, after: bigint, limit: number): Observable<readonly StoredDelivery[]>;
  /** Every known user, by id, with how many deliveries wait for it. */
  users(): Observable<readonly UserSummary[]>;
  close(): void;
}
