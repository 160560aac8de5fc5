import Redis from 'ioredis';
import { defer, map, Observable } from 'rxjs';
import { replyStrings } from '../cluster/redis-script';
import { REDIS_KEYS } from '../cluster/redis-keys';
import { UserId } from '../server/service';
import {
  ChatStore,
  StoreOutcome,
  StoredDelivery,
  StoredUser,
  StoreWrite,
  UserSummary,
} from './chat-store';
import { ADD_USER, RELEASE_USER, USERS, WAITING, WRITE } from './redis-store-scripts';

/** A block of fresh user ids, `first` to `last`, for one node to give out. */
export interface IdBlock {
  readonly first: UserId;
  readonly last: UserId;
}

function outcomeOf(reply: string): StoreOutcome {
  if (reply === 'u') return { refused: 'unknown-recipient' };
  if (reply === 'f') return { refused: 'mailbox-full' };
  const online = reply.endsWith('+');
  return { delivery: BigInt(online ? reply.slice(0, -1) : reply), online };
}

function deliveriesOf(reply: string[]): StoredDelivery[] {
  const deliveries: StoredDelivery[] = [];
  for (let i = 0; i + 3 < reply.length; i += 4) {
    deliveries.push({
      delivery: BigInt(reply[i] as string),
      from: BigInt(reply[i + 1] as string),
      msg: reply[i + 2] as string,
      redelivered: reply[i + 3] === '1',
    });
  }
  return deliveries;
}

/**
 * The cluster's store: users and their waiting direct messages in one Redis, shared by every
 * node. Each call is one script or command, atomic; calls made in one turn travel in one
 * round trip (the client pipelines them). A write also passes each delivery on to the node its
 * recipient is connected to, in the same script, so deliveries reach a node in order.
 */
export class RedisStore implements ChatStore {
  private constructor(
    private readonly redis: Redis,
    /** This node's name: deliveries for its own users are not published back to it. */
    private readonly node: string,
    readonly lastUserId: UserId,
  ) {}

  static async open(redis: Redis, node: string): Promise<RedisStore> {
    const last = await redis.get(REDIS_KEYS.lastUserId);
    return new RedisStore(redis, node, BigInt(last ?? '0'));
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
    return defer(() => ADD_USER.run(this.redis, [id.toString(), secretHash])).pipe(
      map(() => undefined),
    );
  }

  findUser(id: UserId): Observable<StoredUser | undefined> {
    return defer(() =>
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
    return defer(() => RELEASE_USER.run(this.redis, [id.toString()])).pipe(map(() => undefined));
  }

  write(write: StoreWrite, maxPending: number): Observable<readonly StoreOutcome[]> {
    const args: string[] = [
      this.node,
      String(maxPending),
      write.acknowledge ? write.acknowledge.user.toString() : '',
      write.acknowledge ? write.acknowledge.upTo.toString() : '0',
    ];
    for (const { from, recipient, msg, sentNow } of write.messages) {
      args.push(from.toString(), recipient.toString(), msg, sentNow ? '1' : '0');
    }
    return defer(() => WRITE.run(this.redis, args)).pipe(
      map((reply) => replyStrings(reply).map(outcomeOf)),
    );
  }

  waiting(user: UserId, after: bigint, limit: number): Observable<readonly StoredDelivery[]> {
    return defer(() =>
      WAITING.run(this.redis, [user.toString(), after.toString(), String(limit)]),
    ).pipe(map((reply) => deliveriesOf(replyStrings(reply))));
  }

  users(): Observable<readonly UserSummary[]> {
    return defer(() => USERS.run(this.redis, [])).pipe(
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
}
