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

/** A chat message as `proto/chat.proto` defines it; int64 fields are exact `Long`s. */
export type ChatMessage = Fields<generated.ChatMessage>;
export type Handshake = Fields<generated.Handshake>;

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
