import Long from 'long';
import {
  concat,
  filter,
  map,
  mergeMap,
  Observable,
  share,
  take,
  throwError,
  throwIfEmpty,
} from 'rxjs';
import {
  ChatMessage,
  Handshake,
  NoticeCode,
  NoticeKind,
  ReceiptStatus,
  ServerFrame,
} from '../protocol/messages';
import { ClientError } from './client-error';
import { ClientEffect, converse, Reaction } from './conversation';
import { Identity } from './identity';

/** The line that ends a chat client's input, like Ctrl-D. */
export const CHAT_END_LINE = 'end';

/** The chat client's own effect: keep its identity (a file, for `--identity`). */
export type Remember = { readonly type: 'remember'; readonly identity: Identity };

export type ChatClientEffect = ClientEffect<ChatMessage, Remember>;

type Reply = Reaction<ChatMessage, Remember>;

const print = (text: string): ChatClientEffect => ({ type: 'print', text });
const status = (text: string): ChatClientEffect => ({ type: 'status', text });
const send = (message: ChatMessage): ChatClientEffect => ({ type: 'send', message });

function control(fields: Partial<ChatMessage>): ChatMessage {
  return { from: Long.ZERO, to: Long.ZERO, msg: '', ...fields };
}

/** What the client makes of each frame after the handshake; it keeps who it is and what it has shown. */
class ChatReader {
  /** The user this client speaks as. */
  readonly me: Long;
  private identity: Identity;
  /** Kept deliveries announced on resuming that have not arrived yet: the client waits for them. */
  private keptToCome = 0;

  constructor(
    handshake: Handshake,
    private readonly resuming: Identity | undefined,
  ) {
    this.identity = resuming ?? {
      id: handshake.id,
      secret: handshake.secret ?? new Uint8Array(),
      lastDelivery: Long.UZERO,
    };
    this.me = this.identity.id;
  }

  /** The client's first frames: hello, resuming the identity it was given, if any. */
  start(): ChatClientEffect[] {
    if (this.resuming) {
      const { id, secret } = this.resuming;
      return [send(control({ hello: { id, secret } }))];
    }
    return [
      status(`connected as ${this.me.toString()}`),
      { type: 'remember', identity: this.identity },
      send(control({ hello: {} })),
    ];
  }

  read(message: ChatMessage): Reply {
    if (message.notice) return this.readNotice(message.notice);
    if (message.delivery && !message.delivery.isZero()) return this.readDelivery(message);
    if (message.from.isZero()) return { effects: [print(`operator: ${message.msg}`)], settles: 0 };
    if (!message.from.equals(this.me)) {
      return { effects: [print(`${message.from.toString()}: ${message.msg}`)], settles: 0 };
    }
    const effects = [print(message.msg)];
    const { receipt } = message;
    if (receipt?.status === ReceiptStatus.REFUSED) {
      effects.push(status(`message to ${message.to.toString()} refused: ${receipt.reason ?? ''}`));
    }
    return { effects, settles: 1 };
  }

  private readNotice(notice: NonNullable<ChatMessage['notice']>): Reply {
    const text = notice.text ?? '';
    switch (notice.kind) {
      case NoticeKind.WELCOME: {
        // A resuming client waits for the answer to its hello, and the kept deliveries after it.
        if (!this.resuming) return { effects: [], settles: 0 };
        this.keptToCome = Long.fromValue(notice.pending ?? 0).toNumber();
        const kept =
          this.keptToCome > 0 ? [status(`${this.keptToCome} messages were kept for you`)] : [];
        return {
          effects: [status(`connected as ${this.me.toString()}`), ...kept],
          settles: 1 - this.keptToCome,
        };
      }
      case NoticeKind.CLOSING:
        // Shut down or kicked, the client says what it always said once the server has closed.
        return notice.code === NoticeCode.SHUTTING_DOWN || notice.code === NoticeCode.KICKED
          ? { effects: [], settles: 0 }
          : { effects: [], settles: 0, failure: text };
      default:
        return { effects: [status(`server: ${text}`)], settles: 0 };
    }
  }

  /**
   * A delivery is shown, then remembered, then acknowledged: a crash between them can show it
   * twice, never lose it. One shown before (a redelivery) is only acknowledged.
   */
  private readDelivery(message: ChatMessage): Reply {
    const delivery = (message.delivery as Long).toUnsigned();
    const settles = this.keptToCome > 0 ? 1 : 0;
    this.keptToCome -= settles;
    const ack = send(control({ ack: delivery }));
    if (delivery.lessThanOrEqual(this.identity.lastDelivery)) return { effects: [ack], settles };
    this.identity = { ...this.identity, lastDelivery: delivery };
    const from = message.from.isZero() ? 'operator' : message.from.toString();
    return {
      effects: [
        print(`${from}: ${message.msg}`),
        { type: 'remember', identity: this.identity },
        ack,
      ],
      settles,
    };
  }
}

function refusal(handshake: Handshake): string {
  const reason = handshake.reason ? `: ${handshake.reason}` : '';
  return `server refused the connection${reason}`;
}

/**
 * The chat client: waits for the handshake, says hello (resuming `resuming` if given), then
 * sends each line as a ChatMessage to `to` and prints every message it receives: its own
 * echoes as their text, other users' as `<from>: <text>`, the operator's as `operator: <text>`.
 * It acknowledges each delivery once shown and remembered. It is done when the input has ended
 * and every echo, and every message kept for it, has arrived.
 */
export function chatClient(
  frame$: Observable<ServerFrame>,
  line$: Observable<string>,
  to: Long,
  resuming?: Identity,
): Observable<ChatClientEffect> {
  const frames$ = frame$.pipe(share());
  const chats$ = frames$.pipe(
    filter((frame): frame is { readonly chat: ChatMessage } => 'chat' in frame),
    map((frame) => frame.chat),
  );
  return frames$.pipe(
    take(1),
    throwIfEmpty(() => new ClientError('the server closed the connection before its handshake')),
    mergeMap((first) => {
      if (!('handshake' in first) || first.handshake.error) {
        const why = 'handshake' in first ? refusal(first.handshake) : 'no handshake';
        return throwError(() => new ClientError(why));
      }
      const reader = new ChatReader(first.handshake, resuming);
      return concat(
        reader.start(),
        converse(line$, chats$, {
          message: (msg) => ({ from: reader.me, to, msg }),
          react: (message) => reader.read(message),
          awaiting: resuming ? 1 : 0,
          endLine: CHAT_END_LINE,
        }),
      );
    }),
  );
}
