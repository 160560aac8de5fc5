import Long from 'long';
import { chatMessageCodec, serverFrameCodec } from '../../src/protocol/chat-codec';
import { ChatMessage, ServerFrame } from '../../src/protocol/messages';

export function chat(from: number | string, to: number | string, msg: string): ChatMessage {
  return { from: Long.fromValue(from), to: Long.fromValue(to), msg };
}

/** A frame in plain values, easy to compare: `{ handshake: '3' }`, `{ refused: true }`, `{ from, to, msg }`. */
export type PlainFrame =
  | { readonly handshake: string }
  | { readonly refused: true }
  | { readonly from: string; readonly to: string; readonly msg: string };

export function plainFrame(frame: ServerFrame): PlainFrame {
  if ('handshake' in frame) {
    return frame.handshake.error ? { refused: true } : { handshake: frame.handshake.id.toString() };
  }
  const { from, to, msg } = frame.chat;
  return { from: from.toString(), to: to.toString(), msg };
}

/** Everything a server sent on one connection, decoded. */
export function serverFramesIn(bytes: Uint8Array): PlainFrame[] {
  return serverFrameCodec().decoder().push(bytes).map(plainFrame);
}

export function clientBytes(...messages: ChatMessage[]): Uint8Array {
  return chatMessageCodec().encode(messages);
}
