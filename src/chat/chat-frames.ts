import Long from 'long';
import {
  ChatMessage,
  Notice,
  NoticeCode,
  NoticeKind,
  OPERATOR_ID,
  Receipt,
  ReceiptStatus,
  Refusal,
  ServerFrame,
} from '../protocol/messages';
import { ScannedChatMessage, SplicedChatMessage } from '../protocol/spliced-chat-message';
import { StoredDelivery, StoreOutcome } from '../store/chat-store';

/** The frames the chat server sends, built from plain values. */

export function handshake(id: Long, secret: Uint8Array): ServerFrame {
  return { handshake: { id, error: false, secret } };
}

/** The only frame of a connection the server cannot serve; with a reason when it is new. */
export function refusedHandshake(reason?: string): ServerFrame {
  return { handshake: { id: Long.ZERO, error: true, ...(reason === undefined ? {} : { reason }) } };
}

/** A message back to its sender, from `from`; a scanned one's bytes are copied, not encoded again. */
export function echo(from: Long, message: ChatMessage, receipt?: Receipt): ServerFrame {
  if (message instanceof ScannedChatMessage) {
    return { chat: new SplicedChatMessage(from, message, receipt ? { receipt } : {}) };
  }
  const { to, msg } = message;
  return { chat: receipt ? { from, to, msg, receipt } : { from, to, msg } };
}

export function announcement(text: string): ServerFrame {
  return { chat: { from: OPERATOR_ID, to: Long.ZERO, msg: text } };
}

/** A delivery passed on live from its sender's connection, with the message as it was sent. */
export interface LiveDelivery extends StoredDelivery {
  readonly message: ChatMessage;
}

/**
 * The frame of a delivery; `from` is its sender's id as a Long, when the caller has it. A live
 * delivery of a scanned message copies its bytes.
 */
export function deliveryFrame(
  to: Long,
  delivery: StoredDelivery | LiveDelivery,
  from = Long.fromBigInt(delivery.from),
): ServerFrame {
  if (
    'message' in delivery &&
    delivery.message instanceof ScannedChatMessage &&
    !delivery.redelivered
  ) {
    return {
      chat: new SplicedChatMessage(from, delivery.message, { delivery: delivery.delivery }),
    };
  }
  const chat: ChatMessage = {
    from,
    to,
    msg: delivery.msg,
    delivery: Long.fromBigInt(delivery.delivery, true),
    ...(delivery.redelivered ? { redelivered: true } : {}),
  };
  return { chat };
}

export function notice(to: Long, fields: Notice): ServerFrame {
  return { chat: { from: OPERATOR_ID, to, msg: '', notice: fields } };
}

export type NoticeCodeName = keyof typeof NoticeCode;

export function errorNotice(to: Long, code: NoticeCodeName, text: string): ServerFrame {
  return notice(to, { kind: NoticeKind.ERROR, code: NoticeCode[code], text });
}

export function closingNotice(to: Long, code: NoticeCodeName, text: string): ServerFrame {
  return notice(to, { kind: NoticeKind.CLOSING, code: NoticeCode[code], text });
}

export function welcome(id: Long, code: 'RESUMED' | 'NEW_USER', pending: bigint): ServerFrame {
  const text =
    code === 'RESUMED' ? `resumed as user ${id.toString()}` : `you are user ${id.toString()}`;
  return notice(id, {
    kind: NoticeKind.WELCOME,
    code: NoticeCode[code],
    text,
    id,
    pending: Long.fromBigInt(pending, true),
  });
}

const REFUSALS = {
  'unknown-recipient': { refusal: Refusal.UNKNOWN_RECIPIENT, reason: 'no user has that id' },
  'mailbox-full': {
    refusal: Refusal.MAILBOX_FULL,
    reason: 'too many messages are waiting for that user',
  },
  'store-failed': { refusal: Refusal.STORE_FAILED, reason: 'the server could not store it' },
} as const;

export type RefusalName = keyof typeof REFUSALS;

export function refusedReceipt(why: RefusalName): Receipt {
  return { status: ReceiptStatus.REFUSED, ...REFUSALS[why] };
}

/**
 * What became of a direct message: what the store said; or, the store failing, refused, or
 * passed on live to a recipient connected to this server without being kept.
 */
export type Outcome = StoreOutcome | { readonly refused: RefusalName } | { readonly relayed: true };

/** The receipt for a stored direct message, or for one that was refused. */
const DELIVERED: Receipt = Object.freeze({ status: ReceiptStatus.DELIVERED });
const STORED: Receipt = Object.freeze({ status: ReceiptStatus.STORED });

const RELAYED: Receipt = Object.freeze({
  status: ReceiptStatus.DELIVERED,
  reason: 'passed on live but not kept: the store cannot be reached',
});

export function receiptFor(outcome: Outcome, recipientOnline: boolean): Receipt {
  if ('refused' in outcome) return refusedReceipt(outcome.refused);
  if ('relayed' in outcome) return RELAYED;
  return recipientOnline ? DELIVERED : STORED;
}

/** A message passed on live from another user, not kept: it has no delivery number to acknowledge. */
export function relayedFrame(from: Long, to: Long, msg: string): ServerFrame {
  return { chat: { from, to, msg } };
}
