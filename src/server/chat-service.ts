import Long from 'long';
import { concat, map, Observable, of } from 'rxjs';
import {
  chatMessageCodec,
  DEFAULT_MAX_FRAME_BYTES,
  serverFrameCodec,
} from '../protocol/chat-codec';
import { ChatMessage, OPERATOR_ID, ServerFrame } from '../protocol/messages';
import { Service, UserId } from './service';

/**
 * The chat server's conversation: a Handshake with the user's id, then every ChatMessage the
 * user sends comes back to it, in order, with `from` set to the user's id.
 */
export function chatSession(
  id: UserId,
  input$: Observable<readonly ChatMessage[]>,
): Observable<readonly ServerFrame[]> {
  const from = Long.fromBigInt(id);
  return concat(
    of([{ handshake: { id: from, error: false } }]),
    input$.pipe(
      map((batch) => batch.map(({ to, msg }): ServerFrame => ({ chat: { from, to, msg } }))),
    ),
  );
}

export function chatService(
  maxFrameBytes = DEFAULT_MAX_FRAME_BYTES,
): Service<ChatMessage, ServerFrame> {
  return {
    incoming: chatMessageCodec(maxFrameBytes),
    outgoing: serverFrameCodec(maxFrameBytes),
    session: chatSession,
    sessionEndReason: 'client closed the connection',
    refusal: [{ handshake: { id: Long.ZERO, error: true } }],
    announcement: (text) => ({ chat: { from: OPERATOR_ID, to: Long.ZERO, msg: text } }),
  };
}
