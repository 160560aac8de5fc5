import Long from 'long';
import { chatMessageCodec, DEFAULT_MAX_FRAME_BYTES } from '../protocol/chat-codec';
import { DEFAULT_MAX_LINE_BYTES, lineCodec } from '../protocol/line-codec';
import { ChatMessage, OPERATOR_ID } from '../protocol/messages';
import { Answer, Service, Session, Signal, stopped } from './service';

/** The line that ends a text conversation (Assignment 1, exercise 4). */
export const END_LINE = 'end';

/** A session that answers each batch with `answer` and each announcement with `announcement`. */
function echoSession<In, Out>(
  answer: (batch: readonly In[]) => Answer<Out>,
  announcement: (text: string) => Out,
): Session<In, Out> {
  return {
    greet: () => ({ replies: [] }),
    answer,
    hear: (signal: Signal<never>) => {
      if ('stop' in signal) return stopped(signal.stop);
      return 'announce' in signal ? { replies: [announcement(signal.announce)] } : { replies: [] };
    },
  };
}

/** Every line comes back, up to the line `end`, which ends the conversation unanswered. */
export const echoUntilEnd: Session<string, string> = echoSession(
  (batch) => {
    const end = batch.indexOf(END_LINE);
    return end < 0
      ? { replies: batch }
      : { replies: batch.slice(0, end), close: `client sent "${END_LINE}"` };
  },
  (text) => `[operator] ${text}`,
);

/** Assignment 1's text echo server, and Assignment 2 exercise 1's. */
export function textEchoService(maxLineBytes = DEFAULT_MAX_LINE_BYTES): Service<string, string> {
  return {
    incoming: lineCodec(maxLineBytes),
    outgoing: lineCodec(maxLineBytes),
    session: () => echoUntilEnd,
    refusal: ['server is full, try again later'],
  };
}

const echoAsSent: Session<ChatMessage, ChatMessage> = echoSession(
  (batch) => ({ replies: batch }),
  (text) => ({ from: OPERATOR_ID, to: Long.ZERO, msg: text }),
);

/** Assignment 2 exercise 2: every ChatMessage comes back exactly as sent; no handshake. */
export function chatEchoService(
  maxFrameBytes = DEFAULT_MAX_FRAME_BYTES,
): Service<ChatMessage, ChatMessage> {
  const codec = chatMessageCodec(maxFrameBytes);
  return {
    incoming: codec,
    outgoing: codec,
    session: () => echoAsSent,
    refusal: [],
  };
}
