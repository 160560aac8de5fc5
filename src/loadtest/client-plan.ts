import Long from 'long';
import * as generated from '../protocol/generated/chat';

/** Who a client is to the server: the id and secret of its handshake, enough to resume it. */
export interface Credentials {
  readonly id: Long;
  readonly secret: Uint8Array;
}

export interface LoadPlan {
  /** Messages each client sends. */
  readonly messages: number;
  /** Messages a client may have sent and not yet seen echoed. */
  readonly window: number;
  /** Bytes of text in each message. */
  readonly size: number;
}

/**
 * A client that knows only Assignment 2: it never says hello, sends its messages to itself
 * and checks that each comes back byte for byte.
 */
export interface EchoPlan {
  readonly kind: 'echo';
  readonly sends: LoadPlan;
  /** Told the client's credentials once its handshake is in. */
  readonly greeted?: (credentials: Credentials) => void;
}

/** A client that says hello as a new user; it is ready once welcomed. */
export interface NewUser {
  readonly kind: 'new-user';
}

/**
 * A client that, at the start, resumes an earlier user and expects `pending` deliveries kept
 * for it. Its handshake's own user is a stand-in, ready at once.
 */
export interface Resume {
  readonly kind: 'resume';
  readonly as: () => Credentials;
  readonly pending: number;
}

/**
 * A client that sends and receives direct messages. The ids it needs are functions, asked at
 * the start, because they come from other clients' handshakes.
 */
export interface DirectPlan {
  readonly kind: 'direct';
  readonly greeting: NewUser | Resume;
  /** The messages it sends, to whom, and the receipt statuses their echoes may carry. */
  readonly sends?: {
    readonly plan: LoadPlan;
    readonly to: () => Long;
    readonly receipts: readonly generated.Receipt.Status[];
  };
  /** The messages it must be delivered: `count` of them, as `from` sends them (`size` bytes of text). */
  readonly receives?: { readonly count: number; readonly from: () => Long; readonly size: number };
  readonly greeted?: (credentials: Credentials) => void;
}

/** What one client of a load test does. */
export type ClientPlan = EchoPlan | DirectPlan;
