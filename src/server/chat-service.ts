import Long from 'long';
import {
  chatMessageCodec,
  DEFAULT_MAX_FRAME_BYTES,
  serverFrameCodec,
} from '../protocol/chat-codec';
import { ChatMessage, OPERATOR_ID, ServerFrame } from '../protocol/messages';
import { Answer, Service, Session, UserId } from './service';

/**
 * The chat server's conversation: a Handshake with the user's id, then every ChatMessage the
 * user sends comes back to it, in order, with `from` set to the user's id.
 */
class ChatSession implements Session<ChatMessage, ServerFrame> {
  constructor(private readonly from: Long) {}

  get greeting(): readonly ServerFrame[] {
    return [{ handshake: { id: this.from, error: false } }];
  }

  answer(batch: readonly ChatMessage[]): Answer<ServerFrame> {
    const { from } = this;
    return { replies: batch.map(({ to, msg }) => ({ chat: { from, to, msg } })), last: false };
  }
}

export function chatSession(id: UserId): Session<ChatMessage, ServerFrame> {
  return new ChatSession(Long.fromBigInt(id));
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
