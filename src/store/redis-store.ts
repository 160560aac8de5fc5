import Redis from 'ioredis';
import { defer, map, Observable, Subscriber } from 'rxjs';
import { replyStrings } from '../cluster/redis-script';
import { REDIS_KEYS } from '../cluster/redis-keys';
import { UserId } from '../server/service';
import {
  ChatStore,
  Outgoing,
  StoreOutcome,
  StoredDelivery,
  StoredUser,
  StoreWrite,
  UserSummary,
} from './chat-store';
import { pacedFlush } from './group-commit';
import { ADD_USER, RELEASE_USER, USERS, WAITING, WRITE } from './redis-store-scripts';

/** A block of fresh user ids, `first` to `last`, for one node to give out. */
export interface IdBlock {
  readonly first: UserId;
  readonly last: UserId;
}

/** Messages of one sender to one recipient, next to each other in one write: one stream entry. */
interface Run {
  readonly from: UserId;
  readonly recipient: UserId;
  readonly texts: string[];
  readonly sentNow: boolean;
}

interface WriteCall {
  readonly write: StoreWrite;
  readonly maxPending: number;
}

interface QueuedWrite {
  readonly call: WriteCall;
  readonly subscriber: Subscriber<readonly StoreOutcome[]>;
}

/** A call waiting for the end of the turn: a write, or any other command, issued by `start`. */
type Queued = QueuedWrite | { readonly start: () => void; readonly subscriber: Subscriber<never> };

function runsOf(messages: readonly Outgoing[]): Run[] {
  const runs: (Run & { texts: string[] })[] = [];
  for (const { from, recipient, msg, sentNow } of messages) {
    const last = runs.at(-1);
    if (last && last.from === from && last.recipient === recipient && last.sentNow === sentNow) {
      last.texts.push(msg);
    } else runs.push({ from, recipient, texts: [msg], sentNow });
  }
  return runs;
}

/** The outcome of each message of a run, from the script's outcome of the run. */
function outcomesOf(reply: string, count: number): StoreOutcome[] {
  if (reply === 'u' || reply === 'f') {
    const refused = reply === 'u' ? 'unknown-recipient' : 'mailbox-full';
    return Array.from({ length: count }, () => ({ refused }));
  }
  const online = reply.endsWith('+');
  const [first = '0', stored = '0'] = (online ? reply.slice(0, -1) : reply).split(':');
  const start = BigInt(first);
  const kept = Number(stored);
  return Array.from({ length: count }, (_, index): StoreOutcome =>
    index < kept ? { delivery: start + BigInt(index), online } : { refused: 'mailbox-full' },
  );
}

function argumentsOf({ write, maxPending }: WriteCall, runs: readonly Run[]): string[] {
  const { acknowledge } = write;
  const args = [
    String(maxPending),
    acknowledge ? acknowledge.user.toString() : '',
    acknowledge ? acknowledge.upTo.toString() : '0',
    String(runs.length),
  ];
  for (const { from, recipient, texts, sentNow } of runs) {
    args.push(
      from.toString(),
      recipient.toString(),
      String(texts.length),
      JSON.stringify(texts),
      sentNow ? '1' : '0',
    );
  }
  return args;
}

/** A run's texts as the script gives them back: a JSON array of strings. */
function textsOf(json: string): string[] {
  const texts: unknown = JSON.parse(json);
  if (!Array.isArray(texts) || !texts.every((text) => typeof text === 'string')) {
    throw new Error('a stored run of messages that is not a list of texts');
  }
  return texts;
}

function deliveriesOf(reply: string[]): StoredDelivery[] {
  const sentBefore = BigInt(reply[0] ?? '0');
  const deliveries: StoredDelivery[] = [];
  for (let i = 1; i + 4 < reply.length; i += 5) {
    const from = BigInt(reply[i] as string);
    const count = Number(reply[i + 1]);
    const sender = BigInt(reply[i + 2] as string);
    const runFirst = BigInt(reply[i + 3] as string);
    const texts = textsOf(reply[i + 4] as string);
    const offset = Number(from - runFirst);
    texts.slice(offset, offset + count).forEach((msg, index) => {
      const delivery = from + BigInt(index);
      deliveries.push({ delivery, from: sender, msg, redelivered: delivery <= sentBefore });
    });
  }
  return deliveries;
}

/**
 * The cluster's store: users and their waiting direct messages in one Redis, shared by every
 * node. Each call is one script or command, atomic; calls made in one turn travel in one
 * round trip (the client pipelines them), and the writes of one turn are one script. A write also passes each delivery on to the node its
 * recipient is connected to, in the same script, so deliveries reach a node in order.
 */
export class RedisStore implements ChatStore {
  private queue: Queued[] = [];
  private scheduled = false;

  private constructor(
    private readonly redis: Redis,
    /** This node's name: deliveries for its own users are not published back to it. */
    private readonly node: string,
    readonly lastUserId: UserId,
    private readonly schedule: (flush: () => void) => void,
  ) {}

  /** `schedule`: when the calls of a turn are sent; by default, at most once a millisecond. */
  static async open(
    redis: Redis,
    node: string,
    schedule: (flush: () => void) => void = pacedFlush(1),
  ): Promise<RedisStore> {
    const last = await redis.get(REDIS_KEYS.lastUserId);
    return new RedisStore(redis, node, BigInt(last ?? '0'), schedule);
  }

  /** Reserves `count` ids that no node has given out, nor ever will again. */
  reserveIds(count: number): Observable<IdBlock> {
    return defer(() => this.redis.incrby(REDIS_KEYS.lastUserId, count)).pipe(
      map((reply) => {
        const last = BigInt(reply);
        return { first: last - BigInt(count) + 1n, last };
      }),
    );
  }

  addUser(id: UserId, secretHash: Buffer): Observable<void> {
    return this.queued(() => ADD_USER.run(this.redis, [id.toString(), secretHash])).pipe(
      map(() => undefined),
    );
  }

  findUser(id: UserId): Observable<StoredUser | undefined> {
    return this.queued(() =>
      this.redis.hmgetBuffer(`${REDIS_KEYS.user}${id}`, 'secret', 'last', 'acked'),
    ).pipe(
      map(([secretHash, last, acked]) =>
        secretHash && last && acked
          ? {
              id,
              secretHash,
              lastDelivery: BigInt(last.toString()),
              acknowledged: BigInt(acked.toString()),
            }
          : undefined,
      ),
    );
  }

  releaseUser(id: UserId): Observable<void> {
    return this.queued(() => RELEASE_USER.run(this.redis, [id.toString()])).pipe(
      map(() => undefined),
    );
  }

  write(write: StoreWrite, maxPending: number): Observable<readonly StoreOutcome[]> {
    return new Observable((subscriber) =>
      this.enqueue({ call: { write, maxPending }, subscriber }),
    );
  }

  waiting(user: UserId, after: bigint, limit: number): Observable<readonly StoredDelivery[]> {
    return this.queued(() =>
      WAITING.run(this.redis, [user.toString(), after.toString(), String(limit)]),
    ).pipe(map((reply) => deliveriesOf(replyStrings(reply))));
  }

  users(): Observable<readonly UserSummary[]> {
    return this.queued(() => USERS.run(this.redis, [])).pipe(
      map((reply) => {
        const flat = replyStrings(reply);
        const users: UserSummary[] = [];
        for (let i = 0; i + 1 < flat.length; i += 2) {
          users.push({ id: BigInt(flat[i] as string), waiting: BigInt(flat[i + 1] as string) });
        }
        return users.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
      }),
    );
  }

  /** The connection is the cluster's, closed with it. */
  close(): void {}

  /** A command, sent at the end of the turn with the others, in order. */
  private queued<T>(command: () => Promise<T>): Observable<T> {
    return new Observable<T>((subscriber) =>
      this.enqueue({
        subscriber,
        start: () => {
          command().then(
            (result) => {
              subscriber.next(result);
              subscriber.complete();
            },
            (error: unknown) => subscriber.error(error),
          );
        },
      }),
    );
  }

  private enqueue(queued: Queued): void {
    this.queue.push(queued);
    if (this.scheduled) return;
    this.scheduled = true;
    this.schedule(() => this.flush());
  }

  /**
   * Sends the turn's calls, in order, in one round trip (the client pipelines what is sent in
   * one turn): writes next to each other as one script, each other call as its command. A call
   * whose caller has gone is not sent.
   */
  private flush(): void {
    const queue = this.queue.filter(({ subscriber }) => !subscriber.closed);
    this.queue = [];
    this.scheduled = false;
    let writes: QueuedWrite[] = [];
    for (const queued of queue) {
      if ('call' in queued) {
        writes.push(queued);
        continue;
      }
      this.writeAll(writes);
      writes = [];
      queued.start();
    }
    this.writeAll(writes);
  }

  /** Writes from several connections as one script, each caller hearing its own outcomes. */
  private writeAll(writes: readonly QueuedWrite[]): void {
    if (writes.length === 0) return;
    const runs = writes.map(({ call }) => runsOf(call.write.messages));
    const args = [this.node];
    writes.forEach(({ call }, index) => args.push(...argumentsOf(call, runs[index] ?? [])));
    WRITE.run(this.redis, args)
      .then((reply) => {
        const replies = replyStrings(reply);
        let next = 0;
        return writes.map((_, index) =>
          (runs[index] ?? []).flatMap((run) =>
            outcomesOf(replies[next++] ?? 'u', run.texts.length),
          ),
        );
      })
      .then(
        (outcomes) =>
          writes.forEach(({ subscriber }, index) => {
            subscriber.next(outcomes[index] ?? []);
            subscriber.complete();
          }),
        (error: unknown) => {
          for (const { subscriber } of writes) subscriber.error(error);
        },
      );
  }
}
