import { Codec } from '../protocol/codec';

/** A user's id: 1, 2, 3, … in the order connections are accepted, never reused. */
export type UserId = bigint;

/** What the server says to one batch of what a user sent. */
export interface Answer<Out> {
  readonly replies: readonly Out[];
  /** Whether the conversation ends after these replies, and the connection with it. */
  readonly last: boolean;
}

/**
 * One user's conversation, a pure function of what the user sends: a greeting, then an answer
 * to each batch of messages, in order.
 */
export interface Session<In, Out> {
  readonly greeting: readonly Out[];
  answer(batch: readonly In[]): Answer<Out>;
}

/**
 * What a server offers on every connection: how its bytes are read and written, and the
 * conversation itself. The chat server and the course's echo servers are each one Service.
 */
export interface Service<In, Out> {
  readonly incoming: Codec<In>;
  readonly outgoing: Codec<Out>;
  session(id: UserId): Session<In, Out>;
  /** Why a connection closed when its session ended the conversation. */
  readonly sessionEndReason: string;
  /** All that a connection the server cannot serve is sent before it is closed. */
  readonly refusal: readonly Out[];
  /** An announcement from the server's operator, as each user receives it. */
  announcement(text: string): Out;
}
