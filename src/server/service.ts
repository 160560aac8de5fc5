import { map, Observable } from 'rxjs';
import { Codec } from '../protocol/codec';

/** A user's id: 1, 2, 3, … in the order connections are accepted, never reused. */
export type UserId = bigint;

/** Why the server ends a connection from outside its conversation. */
export type StopReason = 'kicked' | 'shutdown' | 'taken-over' | 'idle';

export const STOP_REASONS: Readonly<Record<StopReason, string>> = {
  kicked: 'kicked by the operator',
  shutdown: 'server shutting down',
  'taken-over': 'the same user connected again',
  idle: 'idle for too long',
};

/**
 * What reaches one connection from elsewhere in the server: an announcement from the operator,
 * an order to stop, word of a limit, or what the service itself sends between its users
 * (`Extra`).
 */
export type Signal<Extra> =
  | { readonly announce: string }
  | { readonly stop: StopReason }
  /** A limit held this connection back: the server says so, to a client that understands. */
  | { readonly limited: string }
  | Extra;

/** What an answer asks of the server besides writing its replies. */
export type SessionEffect<Extra> =
  | { readonly signal: Signal<Extra>; readonly to: UserId }
  /** This connection speaks for another user from now on (a resumed session). */
  | { readonly become: UserId }
  /** A line for the server's log about this user. */
  | { readonly warn: string };

/** What the server does in answer to one thing that happened on a connection. */
export interface Answer<Out, Extra = never> {
  readonly replies: readonly Out[];
  /** Ends the conversation after the replies: the connection closes, for this reason. */
  readonly close?: string;
  readonly effects?: readonly SessionEffect<Extra>[];
  /**
   * Work to finish (the store's) before anything else happens on this connection; what it
   * emits first is the next answer. Until then, what the user sends and signals wait.
   */
  readonly then?: Observable<Answer<Out, Extra>>;
}

/**
 * One user's conversation: a greeting, then an answer to each batch of messages the user sends
 * and to each signal, in order. It decides; the connection does what the answers say.
 */
export interface Session<In, Out, Extra = never> {
  greet(): Answer<Out, Extra>;
  answer(batch: readonly In[]): Answer<Out, Extra>;
  hear(signal: Signal<Extra>): Answer<Out, Extra>;
}

/** What a session may ask about the rest of the server. */
export interface ServerView {
  /** Whether a user is connected now. */
  isOnline(id: UserId): boolean;
}

/**
 * What a server offers on every connection: how its bytes are read and written, and the
 * conversation itself. The chat server and the course's echo servers are each one Service.
 */
export interface Service<In, Out, Extra = never> {
  readonly incoming: Codec<In>;
  readonly outgoing: Codec<Out>;
  session(id: UserId, server: ServerView): Session<In, Out, Extra>;
  /** All that a connection the server cannot serve is sent before it is closed. */
  readonly refusal: readonly Out[];
}

/** The answer of a session that ends the conversation because the server stops it. */
export function stopped<Out>(reason: StopReason, replies: readonly Out[] = []): Answer<Out> {
  return { replies, close: STOP_REASONS[reason] };
}

/** An answer that says and does nothing. */
function isEmpty<Out, Extra>(answer: Answer<Out, Extra>): boolean {
  return (
    answer.replies.length === 0 &&
    answer.effects === undefined &&
    answer.close === undefined &&
    answer.then === undefined
  );
}

/**
 * `first`, then `next()`: the replies and effects of both, in order. `next` is asked for only
 * once `first`'s work is done, so it sees the session as `first` left it.
 */
export function followedBy<Out, Extra>(
  first: Answer<Out, Extra>,
  next: () => Answer<Out, Extra>,
): Answer<Out, Extra> {
  if (first.close !== undefined) return first;
  const { then } = first;
  if (then) return { ...first, then: then.pipe(map((answer) => followedBy(answer, next))) };
  const second = next();
  if (isEmpty(second)) return first;
  if (first.replies.length === 0 && !first.effects) return second;
  const effects = [...(first.effects ?? []), ...(second.effects ?? [])];
  return {
    ...second,
    replies: first.replies.length === 0 ? second.replies : [...first.replies, ...second.replies],
    ...(effects.length === 0 ? {} : { effects }),
  };
}
