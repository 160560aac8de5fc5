import { Observable } from 'rxjs';
import { Codec } from '../protocol/codec';

/** A user's id: 1, 2, 3, … in the order connections are accepted, never reused. */
export type UserId = bigint;

/**
 * What a server offers on every connection: how its bytes are read and written, and the
 * conversation itself. The chat server and the course's echo servers are each one Service.
 */
export interface Service<In, Out> {
  readonly incoming: Codec<In>;
  readonly outgoing: Codec<Out>;
  /**
   * One user's conversation: what the server sends in answer to what the user sends, greeting
   * first where the service has a greeting. When it completes, the connection is closed.
   */
  session(id: UserId, input$: Observable<readonly In[]>): Observable<readonly Out[]>;
  /** Why a connection closed when its session completed by itself. */
  readonly sessionEndReason: string;
  /** All that a connection the server cannot serve is sent before it is closed. */
  readonly refusal: readonly Out[];
  /** An announcement from the server's operator, as each user receives it. */
  announcement(text: string): Out;
}
