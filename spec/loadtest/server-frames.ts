import Long from 'long';
import { chatMessageCodec } from '../../src/protocol/chat-codec';
import * as generated from '../../src/protocol/generated/chat';
import { ChatMessage, NoticeCode, NoticeKind, ReceiptStatus } from '../../src/protocol/messages';

/** What the specs of the load tester play the server with: frames as plain values. */

type Message = generated.ChatMessage.$Properties;

/** A frame's body, without its length prefix, as a conversation reads it. */
export function body(message: Message): Buffer {
  return Buffer.from(generated.ChatMessage.encode(message).finish());
}

export function welcome(id: number, code: 'NEW_USER' | 'RESUMED', pending = 0): Message {
  return {
    from: Long.ZERO,
    to: Long.fromInt(id),
    notice: {
      kind: NoticeKind.WELCOME,
      code: NoticeCode[code],
      id: Long.fromInt(id),
      pending: Long.fromInt(pending, true),
    },
  };
}

export function errorNotice(code: keyof typeof NoticeCode, text: string): Message {
  return { notice: { kind: NoticeKind.ERROR, code: NoticeCode[code], text } };
}

export function receipted(
  from: number,
  to: number,
  msg: string,
  status: keyof typeof ReceiptStatus,
): Message {
  return {
    from: Long.fromInt(from),
    to: Long.fromInt(to),
    msg,
    receipt: { status: ReceiptStatus[status] },
  };
}

export function delivery(
  from: number,
  to: number,
  msg: string,
  number: number,
  redelivered = false,
): Message {
  return {
    from: Long.fromInt(from),
    to: Long.fromInt(to),
    msg,
    delivery: Long.fromInt(number, true),
    ...(redelivered ? { redelivered } : {}),
  };
}

/** What a client wrote, decoded. */
export function framesIn(bytes: Buffer | undefined): ChatMessage[] {
  return bytes ? chatMessageCodec().decoder().push(bytes) : [];
}
