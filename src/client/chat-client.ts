import Long from 'long';
import {
  concat,
  filter,
  map,
  mergeMap,
  Observable,
  of,
  share,
  take,
  throwError,
  throwIfEmpty,
} from 'rxjs';
import { ChatMessage, ServerFrame } from '../protocol/messages';
import { ClientError } from './client-error';
import { ClientEffect, converse } from './conversation';

/** The line that ends a chat client's input, like Ctrl-D. */
export const CHAT_END_LINE = 'end';

/**
 * The chat client: waits for the handshake, then sends each line as a ChatMessage to `to` and
 * prints the text of every ChatMessage it receives. Its own messages come back as echoes; it is
 * done when the input has ended and every echo has arrived.
 */
export function chatClient(
  frame$: Observable<ServerFrame>,
  line$: Observable<string>,
  to: Long,
): Observable<ClientEffect<ChatMessage>> {
  const frames$ = frame$.pipe(share());
  const chats$ = frames$.pipe(
    filter((frame): frame is { readonly chat: ChatMessage } => 'chat' in frame),
    map((frame) => frame.chat),
  );
  return frames$.pipe(
    take(1),
    throwIfEmpty(() => new ClientError('the server closed the connection before its handshake')),
    mergeMap((first) => {
      if (!('handshake' in first) || first.handshake.error) {
        return throwError(() => new ClientError('server refused the connection'));
      }
      const id = first.handshake.id;
      return concat(
        of<ClientEffect<ChatMessage>>({ type: 'status', text: `connected as ${id.toString()}` }),
        converse(line$, chats$, {
          message: (msg) => ({ from: id, to, msg }),
          answers: (reply) => reply.from.equals(id),
          render: (reply) => reply.msg,
          endLine: CHAT_END_LINE,
        }),
      );
    }),
  );
}
