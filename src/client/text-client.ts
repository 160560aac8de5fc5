import { Observable } from 'rxjs';
import { END_LINE } from '../server/echo-services';
import { ClientEffect, converse } from './conversation';

export interface TextClientOptions {
  /**
   * Whether the client ends by saying `end` (Assignment 1, exercise 4): a line `end`, or the end
   * of input, sends it and the client is done.
   */
  readonly saysEnd: boolean;
}

/** Assignment 1's client: each line goes to the server as it is; each reply line is printed. */
export function textClient(
  reply$: Observable<string>,
  line$: Observable<string>,
  { saysEnd }: TextClientOptions,
): Observable<ClientEffect<string>> {
  return converse(line$, reply$, {
    message: (line) => line,
    react: (reply) => ({ effects: [{ type: 'print', text: reply }], settles: 1 }),
    ...(saysEnd ? { endLine: END_LINE, farewell: END_LINE } : {}),
  });
}
