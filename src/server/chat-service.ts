import { randomFillSync } from 'node:crypto';
import { ChatDeps, chatSession, ChatSignal } from '../chat/chat-session';
import { refusedHandshake } from '../chat/chat-frames';
import { DirectMessageCounters } from '../chat/direct-message-counters';
import {
  DEFAULT_MAX_FRAME_BYTES,
  scanningChatMessageCodec,
  serverFrameCodec,
} from '../protocol/chat-codec';
import { ChatMessage, ServerFrame } from '../protocol/messages';
import { ChatStore } from '../store/chat-store';
import { Service } from './service';

/** The default of `--max-pending`: deliveries that may wait for one user. */
export const DEFAULT_MAX_PENDING = 10_000;

/** Bytes of a user's secret: 128 random bits. */
const SECRET_BYTES = 16;

/**
 * Fresh secrets of `bytes` random bytes each, drawn from the system's random source a few
 * kilobytes at a time: a system call per new user cost more than the rest of its handshake.
 */
function secretSource(bytes: number, poolBytes = 4096): () => Buffer {
  const pool = Buffer.alloc(poolBytes);
  let used = poolBytes;
  return () => {
    if (used + bytes > poolBytes) {
      randomFillSync(pool);
      used = 0;
    }
    used += bytes;
    // A copy: the pool is refilled while a secret may still wait for its user to be stored.
    return Buffer.from(pool.subarray(used - bytes, used));
  };
}

export interface ChatServiceOptions {
  readonly store: ChatStore;
  readonly maxFrameBytes?: number;
  readonly maxPending?: number;
  readonly counters?: DirectMessageCounters;
  readonly newSecret?: () => Buffer;
  /** Other servers share the store (a cluster). */
  readonly sharedStore?: boolean;
}

export type ChatService = Service<ChatMessage, ServerFrame, ChatSignal>;

/**
 * The chat server: a Handshake with the user's id and secret, then every ChatMessage comes back
 * to its sender with `from` set to the user's id, and a direct message also goes to its
 * recipient, now or when it comes back.
 */
export function chatService({
  store,
  maxFrameBytes = DEFAULT_MAX_FRAME_BYTES,
  maxPending = DEFAULT_MAX_PENDING,
  counters = new DirectMessageCounters(),
  newSecret = secretSource(SECRET_BYTES),
  sharedStore = false,
}: ChatServiceOptions): ChatService {
  const deps: ChatDeps = { store, maxPending, counters, newSecret, sharedStore };
  return {
    incoming: scanningChatMessageCodec(maxFrameBytes),
    outgoing: serverFrameCodec(maxFrameBytes),
    session: (id, server) => chatSession(id, server, deps),
    refusal: [refusedHandshake()],
  };
}
