import Long from 'long';
import { hash, timingSafeEqual } from 'node:crypto';
import { catchError, map, Observable, of } from 'rxjs';
import { ChatMessage, Hello, ServerFrame } from '../protocol/messages';
import {
  Answer,
  followedBy,
  ServerView,
  Session,
  SessionEffect,
  Signal,
  STOP_REASONS,
  StopReason,
  stopped,
  UserId,
} from '../server/service';
import { describeError } from '../server/failure-text';
import { ChatStore, Outgoing, StoredDelivery, StoredUser } from '../store/chat-store';
import {
  announcement,
  closingNotice,
  deliveryFrame,
  echo,
  errorNotice,
  handshake,
  LiveDelivery,
  NoticeCodeName,
  Outcome,
  receiptFor,
  refusedHandshake,
  relayedFrame,
  welcome,
} from './chat-frames';
import { DirectMessageCounters } from './direct-message-counters';
import {
  AckError,
  acknowledge,
  DeliveryWindow,
  onDeliveries,
  heardOf,
  openWindow,
  sentUpTo,
  toFetch,
} from './delivery-window';
import { isEchoOnly, route } from './routing';

/** What a chat session needs from the rest of the server. */
export interface ChatDeps {
  readonly store: ChatStore;
  /** Deliveries that may wait for one user; past it, messages to that user are refused. */
  readonly maxPending: number;
  readonly counters: DirectMessageCounters;
  /** A fresh secret for a new user: at least 128 random bits. */
  readonly newSecret: () => Buffer;
  /**
   * Other servers store deliveries for this server's users too (a cluster): one stored while a
   * user moves here may have gone to its old server, so a resume asks the store again.
   */
  readonly sharedStore?: boolean;
}

/** Direct messages, stored, on their way to their recipient's connection: consecutive deliveries. */
export interface Delivered {
  /** `to` as the sender wrote it: the recipient's id. */
  readonly to: Long;
  /** Live ones carry their message as it was sent. */
  readonly deliveries: readonly (StoredDelivery | LiveDelivery)[];
}

/** Direct messages passed on live, not kept, while the store cannot be reached. */
export interface Relayed {
  readonly to: Long;
  readonly from: UserId;
  readonly texts: readonly string[];
}

/**
 * What users' sessions signal each other: deliveries; messages relayed live; or that deliveries
 * may have been missed (the bus between servers was away), and the store is to be looked at.
 */
export type ChatSignal =
  { readonly deliver: Delivered } | { readonly relay: Relayed } | { readonly recheck: true };

type ChatAnswer = Answer<ServerFrame, ChatSignal>;

/**
 * Who is at the other end: a client that said hello acknowledges its deliveries; one whose
 * first frame was anything else knows only Assignment 2, and what it is sent counts as
 * acknowledged once written; before its first frame, it is not known yet.
 */
type Peer = 'undecided' | 'acknowledging' | 'legacy';

/** How many deliveries are read from the store at a time. */
const PAGE = 500;

const STOP_CODES: Readonly<Record<StopReason, NoticeCodeName>> = {
  kicked: 'KICKED',
  shutdown: 'SHUTTING_DOWN',
  'taken-over': 'TAKEN_OVER',
  idle: 'IDLE',
};

const ACK_ERRORS: Readonly<Record<AckError, { code: NoticeCodeName; says: string }>> = {
  'unknown-delivery': { code: 'UNKNOWN_DELIVERY', says: 'was never sent to you' },
  'already-acknowledged': { code: 'ALREADY_ACKNOWLEDGED', says: 'is already acknowledged' },
};

export function hashSecret(secret: Uint8Array): Buffer {
  return hash('sha256', secret, 'buffer');
}

function secretMatches(secret: Uint8Array | null | undefined, hash: Buffer): boolean {
  return secret != null && secret.length > 0 && timingSafeEqual(hashSecret(secret), hash);
}

const NOTHING: ChatAnswer = { replies: [] };

/** The window of a new user, shared: an idle user costs no window of its own. */
const NOTHING_SENT = openWindow(0n, 0n);

/** A part of the answer to a batch: a frame ready now, or the index of a direct message whose echo waits for its receipt. */
type Part = ServerFrame | number;

/**
 * One user's chat: the handshake once the user is stored; an echo of every message, with a
 * receipt for a direct message once it is stored; deliveries from other users, in order, each
 * kept until acknowledged; a hello that resumes an earlier user.
 */
class ChatSession implements Session<ChatMessage, ServerFrame, ChatSignal> {
  private user: UserId;
  private userLong: Long;
  private peer: Peer = 'undecided';
  private window: DeliveryWindow = NOTHING_SENT;

  constructor(
    private readonly connection: UserId,
    private readonly server: ServerView,
    private readonly deps: ChatDeps,
  ) {
    this.user = connection;
    this.userLong = Long.fromBigInt(connection);
  }

  greet(): ChatAnswer {
    const secret = this.deps.newSecret();
    return this.storing(this.deps.store.addUser(this.user, hashSecret(secret)), {
      done: () => ({ replies: [handshake(this.userLong, secret)] }),
      failed: (reason) => ({
        replies: [refusedHandshake(`the server cannot add users now: ${reason}`)],
        close: `could not store the new user: ${reason}`,
      }),
    });
  }

  answer(batch: readonly ChatMessage[]): ChatAnswer {
    const sender = this.userLong;
    if (this.peer !== 'undecided' && batch.every((message) => isEchoOnly(message, sender))) {
      return { replies: batch.map((message) => echo(sender, message)) };
    }
    const [first, ...rest] = batch;
    if (this.peer === 'undecided' && first) {
      const routed = route(first, sender);
      if (routed.kind === 'hello') {
        return followedBy(this.hello(routed.hello), () => this.converse(rest));
      }
      this.peer = 'legacy';
    }
    return this.converse(batch);
  }

  hear(signal: Signal<ChatSignal>): ChatAnswer {
    if ('announce' in signal) return { replies: [announcement(signal.announce)] };
    if ('stop' in signal) {
      const farewell = this.peer === 'acknowledging';
      const text = `the server closes this connection: ${STOP_REASONS[signal.stop]}`;
      return stopped(
        signal.stop,
        farewell ? [closingNotice(this.userLong, STOP_CODES[signal.stop], text)] : [],
      );
    }
    if ('limited' in signal) {
      return this.peer === 'acknowledging'
        ? { replies: [errorNotice(this.userLong, 'RATE_LIMITED', signal.limited)] }
        : NOTHING;
    }
    if ('relay' in signal) return this.relay(signal.relay);
    if ('recheck' in signal) return this.recheck();
    return this.deliver(signal.deliver);
  }

  private relay({ to, from, texts }: Relayed): ChatAnswer {
    const sender = Long.fromBigInt(from);
    this.deps.counters.delivered += texts.length;
    return { replies: texts.map((msg) => relayedFrame(sender, to, msg)) };
  }

  /**
   * Asks the store how many deliveries this user has, then sends what this connection has not
   * heard of: what was stored while another server still spoke for the user, or while the bus
   * between servers was away, is not left waiting for the next delivery.
   */
  private recheck(): ChatAnswer {
    return this.storing(this.deps.store.findUser(this.user), {
      done: (stored) => {
        if (stored) this.window = heardOf(this.window, stored.lastDelivery);
        return this.fetchIfDue();
      },
      failed: (reason) => ({
        replies: [],
        effects: [{ warn: `could not look for messages waiting: ${reason}` }],
      }),
    });
  }

  /** Sends what can be sent now, in order; after a gap, or past the room, the rest comes from the store. */
  private deliver({ to, deliveries }: Delivered): ChatAnswer {
    const first = deliveries[0]?.delivery ?? 0n;
    const count = BigInt(deliveries.length);
    const decision = onDeliveries(this.window, first, count, this.limited);
    this.window = decision.window;
    if (decision.fetch) return this.fetchIfDue();
    const now = deliveries.slice(Number(decision.first - first), Number(decision.last - first) + 1);
    // One sender for the whole run: its id as a Long once, not once a delivery.
    const sender = now[0] && Long.fromBigInt(now[0].from);
    return this.sending(now.map((delivery) => deliveryFrame(to, delivery, sender)));
  }

  /**
   * Deliveries written now; then, for a client that cannot acknowledge, their acknowledgement;
   * then whatever the store has next, if there is room for it.
   */
  private sending(deliveries: readonly ServerFrame[]): ChatAnswer {
    this.deps.counters.delivered += deliveries.length;
    return followedBy(
      followedBy({ replies: deliveries }, () => this.acknowledgeForLegacy()),
      () => this.fetchIfDue(),
    );
  }

  /** Only a client that acknowledges is limited in what it has unacknowledged. */
  private get limited(): boolean {
    return this.peer === 'acknowledging';
  }

  private hello(hello: Hello): ChatAnswer {
    this.peer = 'acknowledging';
    const id = hello.id == null ? 0n : Long.fromValue(hello.id).toBigInt();
    if (id === 0n || id === this.connection) {
      return {
        replies: [welcome(this.userLong, 'NEW_USER', this.window.known - this.window.sent)],
      };
    }
    return this.storing(this.deps.store.findUser(id), {
      done: (stored) => this.resume(id, hello.secret, stored),
      failed: (reason) => ({
        replies: [closingNotice(this.userLong, 'STORE_FAILED', `cannot resume now: ${reason}`)],
        close: `resume failed: the store failed: ${reason}`,
      }),
    });
  }

  private resume(
    id: UserId,
    secret: Uint8Array | null | undefined,
    stored: StoredUser | undefined,
  ): ChatAnswer {
    const me = this.userLong;
    if (!stored) {
      return {
        replies: [closingNotice(me, 'UNKNOWN_USER', `there is no user ${id}`)],
        close: `resume refused: no user ${id}`,
      };
    }
    if (!secretMatches(secret, stored.secretHash)) {
      return {
        replies: [closingNotice(me, 'WRONG_SECRET', `wrong secret for user ${id}`)],
        close: `resume refused: wrong secret for user ${id}`,
      };
    }
    // Wherever the user is connected, on this server or another, that connection stops.
    const takeover = { signal: { stop: 'taken-over' as const }, to: id };
    this.user = id;
    this.userLong = Long.fromBigInt(id);
    this.window = openWindow(stored.acknowledged, stored.lastDelivery);
    const resumed: ChatAnswer = {
      replies: [welcome(this.userLong, 'RESUMED', stored.lastDelivery - stored.acknowledged)],
      effects: [takeover, { become: id }],
      // The user of this connection's handshake is not needed: forgotten unless messages wait for it.
      then: this.deps.store.releaseUser(this.connection).pipe(
        map(() => NOTHING),
        catchError(() => of(NOTHING)),
      ),
    };
    // In a cluster, once this server speaks for the user, the store is asked again: a delivery
    // stored between the first look and now went to the user's old server.
    const resuming = followedBy(resumed, () => this.fetchIfDue());
    return this.deps.sharedStore ? followedBy(resuming, () => this.recheck()) : resuming;
  }

  /** Echoes, direct messages and acknowledgements, in order: one store write for all of them. */
  private converse(frames: readonly ChatMessage[]): ChatAnswer {
    const me = this.userLong;
    const parts: Part[] = [];
    const messages: Outgoing[] = [];
    const directs: ChatMessage[] = [];
    const acknowledgedBefore = this.window.acknowledged;
    for (const message of frames) {
      const routed = route(message, me);
      switch (routed.kind) {
        case 'echo':
          parts.push(echo(me, message));
          break;
        case 'direct': {
          const { recipient } = routed;
          parts.push(messages.length);
          const sentNow = this.server.isOnline(recipient);
          messages.push({ from: this.user, recipient, msg: message.msg, sentNow });
          directs.push(message);
          break;
        }
        case 'hello':
          parts.push(
            errorNotice(me, 'HELLO_NOT_FIRST', 'hello is only for the first frame of a connection'),
          );
          break;
        case 'mixed':
          parts.push(
            errorNotice(
              me,
              'NOT_A_CHAT_MESSAGE',
              'a frame with hello or ack carries only that: no to, no msg, not both',
            ),
          );
          break;
        case 'ack': {
          const result = acknowledge(this.window, routed.upTo);
          if ('window' in result) this.window = result.window;
          else {
            const { code, says } = ACK_ERRORS[result.error];
            parts.push(errorNotice(me, code, `delivery ${routed.upTo} ${says}`));
          }
          break;
        }
      }
    }
    if (this.peer === 'legacy') this.acknowledgeAllSent();
    const upTo = this.window.acknowledged;
    if (messages.length === 0 && upTo === acknowledgedBefore) {
      return { replies: parts as ServerFrame[] };
    }
    const write = {
      messages,
      ...(upTo > acknowledgedBefore ? { acknowledge: { user: this.user, upTo } } : {}),
    };
    const answer = this.storing(this.deps.store.write(write, this.deps.maxPending), {
      done: (outcomes) =>
        this.written(parts, directs, messages, outcomes, upTo - acknowledgedBefore),
      failed: (reason) => {
        const outcomes = messages.map(({ recipient }): Outcome =>
          this.server.isOnline(recipient) ? { relayed: true } : { refused: 'store-failed' },
        );
        const { replies, effects = [] } = this.written(parts, directs, messages, outcomes, 0n);
        const warn = { warn: `could not store ${messages.length} messages: ${reason}` };
        return { replies, effects: [...effects, warn] };
      },
    });
    return followedBy(answer, () => this.fetchIfDue());
  }

  /** The echoes of a conversed batch, with receipts, and the deliveries of what was stored. */
  private written(
    parts: readonly Part[],
    directs: readonly ChatMessage[],
    messages: readonly Outgoing[],
    outcomes: readonly Outcome[],
    acknowledged: bigint,
  ): ChatAnswer {
    const { counters } = this.deps;
    counters.acknowledged += Number(acknowledged);
    const me = this.userLong;
    const receiptOf = (index: number): ServerFrame => {
      const outcome = outcomes[index] as Outcome;
      const { recipient } = messages[index] as Outgoing;
      if ('refused' in outcome) counters.refused += 1;
      else if ('delivery' in outcome) counters.stored += 1;
      const message = directs[index] as ChatMessage;
      // To a client that knows only Assignment 2, `to` was any number: one that is no user
      // gets the echo it always got, byte for byte. What did reach a user gets its receipt.
      if (this.isLegacyToNobody(outcome)) return echo(me, message);
      const online = 'online' in outcome ? outcome.online : undefined;
      return echo(me, message, receiptFor(outcome, online ?? this.server.isOnline(recipient)));
    };
    const replies = parts.map((part) => (typeof part === 'number' ? receiptOf(part) : part));
    const effects = this.deliveriesOf(directs, messages, outcomes);
    return effects.length === 0 ? { replies } : { replies, effects };
  }

  private isLegacyToNobody(outcome: Outcome): boolean {
    return (
      this.peer !== 'acknowledging' &&
      'refused' in outcome &&
      outcome.refused === 'unknown-recipient'
    );
  }

  /** One signal for each recipient of what was stored, or relayed, with its messages in order. */
  private deliveriesOf(
    directs: readonly ChatMessage[],
    messages: readonly Outgoing[],
    outcomes: readonly Outcome[],
  ): SessionEffect<ChatSignal>[] {
    const stored = new Map<UserId, { to: Long; deliveries: StoredDelivery[] }>();
    const relayed = new Map<UserId, { to: Long; from: UserId; texts: string[] }>();
    outcomes.forEach((outcome, index) => {
      if ('refused' in outcome) return;
      const { recipient, msg } = messages[index] as Outgoing;
      const { to } = directs[index] as ChatMessage;
      if ('relayed' in outcome) {
        const known = relayed.get(recipient);
        if (known) known.texts.push(msg);
        else relayed.set(recipient, { to, from: this.user, texts: [msg] });
        return;
      }
      const delivery: LiveDelivery = {
        delivery: outcome.delivery,
        from: this.user,
        msg,
        redelivered: false,
        message: directs[index] as ChatMessage,
      };
      const known = stored.get(recipient);
      if (known) known.deliveries.push(delivery);
      else stored.set(recipient, { to, deliveries: [delivery] });
    });
    return [
      ...Array.from(stored, ([recipient, deliver]) => ({ signal: { deliver }, to: recipient })),
      ...Array.from(relayed, ([recipient, relay]) => ({ signal: { relay }, to: recipient })),
    ];
  }

  /** Reads waiting deliveries from the store when some wait and there is room for them. */
  private fetchIfDue(): ChatAnswer {
    const count = toFetch(this.window, this.limited, PAGE);
    if (count === 0) return NOTHING;
    const after = this.window.sent;
    return this.storing(this.deps.store.waiting(this.user, after, count), {
      done: (page) => this.sendPage(page, count),
      failed: (reason) => ({
        replies: [],
        effects: [{ warn: `could not read the messages waiting: ${reason}` }],
      }),
    });
  }

  private sendPage(page: readonly StoredDelivery[], asked: number): ChatAnswer {
    const last = page.at(-1)?.delivery ?? this.window.sent;
    this.window = sentUpTo(this.window, last);
    // Fewer than asked for: the store has no more, whatever was heard of.
    if (page.length < asked) this.window = { ...this.window, known: this.window.sent };
    return this.sending(page.map((delivery) => deliveryFrame(this.userLong, delivery)));
  }

  /** A client that knows only Assignment 2 cannot acknowledge: what it was sent counts as acknowledged. */
  private acknowledgeForLegacy(): ChatAnswer {
    if (this.peer !== 'legacy') return NOTHING;
    const before = this.window.acknowledged;
    this.acknowledgeAllSent();
    const upTo = this.window.acknowledged;
    if (upTo === before) return NOTHING;
    this.deps.counters.acknowledged += Number(upTo - before);
    const write = this.deps.store.write(
      { messages: [], acknowledge: { user: this.user, upTo } },
      0,
    );
    return this.storing(write, { done: () => NOTHING, failed: () => NOTHING });
  }

  private acknowledgeAllSent(): void {
    if (this.window.sent > this.window.acknowledged) {
      this.window = { ...this.window, acknowledged: this.window.sent };
    }
  }

  /** An answer that waits for the store, then says `done` with its result or `failed` with why not. */
  private storing<T>(
    work: Observable<T>,
    then: { done: (result: T) => ChatAnswer; failed: (reason: string) => ChatAnswer },
  ): ChatAnswer {
    // One observable, not map and catchError: there is one of these per connection and store call.
    const next = new Observable<ChatAnswer>((subscriber) =>
      work.subscribe({
        next: (result) => subscriber.next(then.done(result)),
        error: (error: unknown) => subscriber.next(then.failed(describeError(error))),
      }),
    );
    return { replies: [], then: next };
  }
}

/** The chat session of a connection accepted as user `id`. */
export function chatSession(
  id: UserId,
  server: ServerView,
  deps: ChatDeps,
): Session<ChatMessage, ServerFrame, ChatSignal> {
  return new ChatSession(id, server, deps);
}
