import Long from 'long';
import { chatMessageCodec, serverFrameCodec } from '../../src/protocol/chat-codec';
import {
  ChatMessage,
  NoticeCode,
  NoticeKind,
  ReceiptStatus,
  ServerFrame,
} from '../../src/protocol/messages';

export function chat(from: number | string, to: number | string, msg: string): ChatMessage {
  return { from: Long.fromValue(from), to: Long.fromValue(to), msg };
}

/** A client's hello: a new user with no id, or a resume. */
export function hello(id?: number | string | bigint, secret?: Uint8Array): ChatMessage {
  if (id === undefined) return { ...chat(0, 0, ''), hello: {} };
  const resume = { id: Long.fromValue(id.toString()), ...(secret ? { secret } : {}) };
  return { ...chat(0, 0, ''), hello: resume };
}

export function ack(upTo: number | bigint): ChatMessage {
  return { ...chat(0, 0, ''), ack: Long.fromValue(upTo.toString(), true) };
}

/**
 * A frame in plain values, easy to compare: `{ handshake: '3' }`, `{ refused: true }`,
 * `{ from, to, msg }` with `receipt`, `delivery`, `redelivered` and `notice` only when set.
 */
export type PlainFrame =
  | { readonly handshake: string }
  | { readonly refused: true }
  | {
      readonly from: string;
      readonly to: string;
      readonly msg: string;
      readonly receipt?: string;
      readonly delivery?: string;
      readonly redelivered?: true;
      readonly notice?: string;
    };

function plainExtras(message: ChatMessage): Record<string, string | true> {
  const extras: Record<string, string | true> = {};
  if (message.receipt) {
    const status = String(ReceiptStatus[message.receipt.status ?? 0]);
    extras.receipt = message.receipt.reason ? `${status}: ${message.receipt.reason}` : status;
  }
  if (message.delivery && !message.delivery.isZero()) extras.delivery = message.delivery.toString();
  if (message.redelivered) extras.redelivered = true;
  if (message.notice) {
    extras.notice = `${NoticeKind[message.notice.kind ?? 0]} ${NoticeCode[message.notice.code ?? 0]}`;
  }
  return extras;
}

export function plainFrame(frame: ServerFrame): PlainFrame {
  if ('handshake' in frame) {
    return frame.handshake.error ? { refused: true } : { handshake: frame.handshake.id.toString() };
  }
  const { from, to, msg } = frame.chat;
  return { from: from.toString(), to: to.toString(), msg, ...plainExtras(frame.chat) };
}

/** Everything a server sent on one connection, decoded. */
export function serverFramesIn(bytes: Uint8Array): PlainFrame[] {
  return serverFrameCodec().decoder().push(bytes).map(plainFrame);
}

/** The secret in the handshake a server sent on one connection. */
export function secretIn(bytes: Uint8Array): Uint8Array {
  const [first] = serverFrameCodec().decoder().push(bytes);
  if (!first || !('handshake' in first) || !first.handshake.secret) throw new Error('no secret');
  return first.handshake.secret;
}

export function clientBytes(...messages: ChatMessage[]): Uint8Array {
  return chatMessageCodec().encode(messages);
}
