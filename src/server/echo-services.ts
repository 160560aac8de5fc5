import Long from 'long';
import { chatMessageCodec, DEFAULT_MAX_FRAME_BYTES } from '../protocol/chat-codec';
import { DEFAULT_MAX_LINE_BYTES, lineCodec } from '../protocol/line-codec';
import { ChatMessage, OPERATOR_ID } from '../protocol/messages';
import { Answer, Service, Session } from './service';

/** The line that ends a text conversation (Assignment 1, exercise 4). */
export const END_LINE = 'end';

/** Every line comes back, up to the line `end`, which ends the conversation unanswered. */
export const echoUntilEnd: Session<string, string> = {
  greeting: [],
  answer(batch): Answer<string> {
    const end = batch.indexOf(END_LINE);
    return end < 0 ? { replies: batch, last: false } : { replies: batch.slice(0, end), last: true };
  },
};

/** Assignment 1's text echo server, and Assignment 2 exercise 1's. */
export function textEchoService(maxLineBytes = DEFAULT_MAX_LINE_BYTES): Service<string, string> {
  return {
    incoming: lineCodec(maxLineBytes),
    outgoing: lineCodec(maxLineBytes),
    session: () => echoUntilEnd,
    sessionEndReason: `client sent "${END_LINE}"`,
    refusal: ['server is full, try again later'],
    announcement: (text) => `[operator] ${text}`,
  };
}

/** Assignment 2 exercise 2: every ChatMessage comes back exactly as sent; no handshake. */
export function chatEchoService(
  maxFrameBytes = DEFAULT_MAX_FRAME_BYTES,
): Service<ChatMessage, ChatMessage> {
  const codec = chatMessageCodec(maxFrameBytes);
  const session: Session<ChatMessage, ChatMessage> = {
    greeting: [],
    answer: (batch) => ({ replies: batch, last: false }),
  };
  return {
    incoming: codec,
    outgoing: codec,
    session: () => session,
    sessionEndReason: 'client closed the connection',
    refusal: [],
    announcement: (text) => ({ from: OPERATOR_ID, to: Long.ZERO, msg: text }),
  };
}
