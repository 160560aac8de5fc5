import Redis, { RedisOptions } from 'ioredis';
import { Observable, share } from 'rxjs';
import { describeNetworkError } from '../transport/network-errors';
import { RedisScript } from './redis-script';

/** How long to wait before the n-th attempt to reach Redis again: 100 ms, doubling, at most 5 s. */
export function reconnectDelay(attempt: number): number {
  return Math.min(100 * 2 ** Math.min(attempt - 1, 6), 5000);
}

const OPTIONS: RedisOptions = {
  lazyConnect: true,
  // Without Redis, a command fails at once, and the user hears so, instead of waiting.
  enableOfflineQueue: false,
  // A command in flight when the connection broke fails; it is never sent twice, since it may
  // have been carried out (a direct message stored twice would be delivered twice).
  maxRetriesPerRequest: 0,
  autoResendUnfulfilledCommands: false,
  // The commands of one turn of the event loop go to Redis in one write: one round trip.
  enableAutoPipelining: true,
  // Integer replies as text: int64 counters beyond 2^53 stay exact.
  stringNumbers: true,
  connectTimeout: 2000,
  retryStrategy: reconnectDelay,
};

/**
 * The node's two connections to Redis: one for commands and scripts, one for the channels it
 * listens to (a connection that subscribes can do nothing else). Both reconnect by themselves,
 * with backoff; the command connection says on the log when Redis is lost and when it is back.
 */
export class RedisLink {
  readonly commands: Redis;
  readonly subscriber: Redis;
  /** Each time both are connected again after losing Redis: messages may have been missed. */
  readonly reconnected: Observable<void>;

  private constructor(
    readonly url: string,
    private readonly log: (line: string) => void,
  ) {
    this.commands = new Redis(url, OPTIONS);
    this.subscriber = new Redis(url, OPTIONS);
    // Before anything else is sent: Redis forgets its scripts when it restarts.
    this.commands.on('ready', () => RedisScript.loadAll(this.commands));
    this.reportChanges();
    // An error with no listener would end the process; the subscriber's are the commands' too.
    this.subscriber.on('error', () => undefined);
    this.reconnected = new Observable<void>((subscriber) => {
      const both = [this.commands, this.subscriber];
      let lost = false;
      const onClose = () => (lost = true);
      const onReady = () => {
        if (!lost || both.some((redis) => redis.status !== 'ready')) return;
        lost = false;
        subscriber.next();
      };
      for (const redis of both) redis.on('close', onClose).on('ready', onReady);
      return () => {
        for (const redis of both) redis.off('close', onClose).off('ready', onReady);
      };
    }).pipe(share());
  }

  /** Connects both, waiting as long as it takes, and saying on the log why it waits. */
  static async open(url: string, log: (line: string) => void): Promise<RedisLink> {
    const link = new RedisLink(url, log);
    await Promise.all([link.firstReady(link.commands), link.firstReady(link.subscriber)]);
    return link;
  }

  async close(): Promise<void> {
    await Promise.allSettled([this.commands.quit(), this.subscriber.quit()]);
  }

  private firstReady(redis: Redis): Promise<void> {
    return new Promise<void>((resolve) => {
      redis.once('ready', () => resolve());
      redis.connect().catch(() => undefined);
    });
  }

  private reportChanges(): void {
    const say = (text: string) => this.log(`redis at ${this.url}: ${text}`);
    let up = false;
    let wasUp = false;
    let lastError = '';
    let firstTrouble = '';
    this.commands.on('error', (error: unknown) => {
      lastError = describeNetworkError(error);
      // Before Redis was first reached: once a cause, not at each attempt.
      if (!wasUp && lastError !== firstTrouble) say(`cannot connect: ${lastError}`);
      if (!wasUp) firstTrouble = lastError;
    });
    this.commands.on('close', () => {
      if (up) say(`connection lost: ${lastError || 'closed by the server'}`);
      up = false;
    });
    this.commands.on('reconnecting', (delay: number) => {
      if (wasUp) say(`trying again in ${delay} ms${lastError === '' ? '' : ` (${lastError})`}`);
      lastError = '';
    });
    this.commands.on('ready', () => {
      if (wasUp) say('connected again');
      up = true;
      wasUp = true;
      lastError = '';
    });
  }
}
