import Long from 'long';
import * as generated from './generated/chat';

/** The data fields of a generated message class, without protobufjs's methods and bookkeeping. */
type Fields<Message> = {
  readonly [
    Field in keyof Message as Message[Field] extends (...args: never[]) => unknown
      ? never
      : Field extends `$${string}`
        ? never
        : Field
  ]: Message[Field];
};

/** Assignment 2's fields required, the later ones optional: what a peer that knows only them sends. */
type WithLaterFieldsOptional<Message, Original extends keyof Message> = Pick<Message, Original> &
  Partial<Omit<Message, Original>>;

/** A chat message as `proto/chat.proto` defines it; int64 fields are exact `Long`s. */
export type ChatMessage = WithLaterFieldsOptional<
  Fields<generated.ChatMessage>,
  'from' | 'to' | 'msg'
>;
export type Handshake = WithLaterFieldsOptional<Fields<generated.Handshake>, 'id' | 'error'>;
export type Receipt = generated.Receipt.$Properties;
export type Hello = generated.Hello.$Properties;
export type Notice = generated.Notice.$Properties;
export const ReceiptStatus = generated.Receipt.Status;
export const Refusal = generated.Receipt.Refusal;
export const NoticeKind = generated.Notice.Kind;
export const NoticeCode = generated.Notice.Code;

/** What a server sends: a handshake first, then chat messages. */
export type ServerFrame = { readonly handshake: Handshake } | { readonly chat: ChatMessage };

/** The sender id of messages from the server's operator. */
export const OPERATOR_ID = Long.ZERO;

/** An int64 from its decimal text, exactly; undefined when it is not an integer within int64. */
export function parseInt64(text: string): Long | undefined {
  if (!/^-?\d{1,19}$/.test(text)) return undefined;
  const value = BigInt(text);
  return value >= -(2n ** 63n) && value < 2n ** 63n ? Long.fromBigInt(value) : undefined;
}
