import Long from 'long';
import { ChatMessage, Hello } from '../protocol/messages';
import { ScannedChatMessage } from '../protocol/spliced-chat-message';
import { UserId } from '../server/service';

/** What a frame from a user asks for. */
export type Routed =
  /** Back to its sender only: `to` is 0, negative, or the sender. */
  | { readonly kind: 'echo' }
  /** To another user, and back to the sender as its receipt. */
  | { readonly kind: 'direct'; readonly recipient: UserId }
  | { readonly kind: 'hello'; readonly hello: Hello }
  | { readonly kind: 'ack'; readonly upTo: bigint }
  /** A hello or an ack that also carries chat fields, or both: neither one control nor a message. */
  | { readonly kind: 'mixed' };

const ECHO: Routed = { kind: 'echo' };

function isSet(value: Long | null | undefined): value is Long {
  return value != null && !value.isZero();
}

function isControl(message: ChatMessage): boolean {
  return message.hello != null || isSet(message.ack);
}

/** Whether a frame is an ordinary message that only comes back: the fast path. */
export function isEchoOnly(message: ChatMessage, sender: Long): boolean {
  if (message instanceof ScannedChatMessage) return message.isEchoFor(sender.low, sender.high);
  const { to } = message;
  return !isControl(message) && (to.isNegative() || to.isZero() || to.equals(sender));
}

/** Who a frame from `sender` is for, or which control it is. */
export function route(message: ChatMessage, sender: Long): Routed {
  if (isControl(message)) {
    const both = message.hello != null && isSet(message.ack);
    if (both || !message.to.isZero() || message.msg !== '') return { kind: 'mixed' };
    if (message.hello != null) return { kind: 'hello', hello: message.hello };
    return { kind: 'ack', upTo: (message.ack as Long).toBigInt() };
  }
  return isEchoOnly(message, sender) ? ECHO : { kind: 'direct', recipient: message.to.toBigInt() };
}
