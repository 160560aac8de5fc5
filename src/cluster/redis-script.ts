import { createHash } from 'node:crypto';
import Redis from 'ioredis';
import { LUA_KEYS } from './redis-keys';

type Argument = string | Buffer | number;

const EVERY_SCRIPT: RedisScript[] = [];

/**
 * A Lua script run by its SHA-1 (EVALSHA), sent in full (EVAL) only when Redis does not know it
 * yet: after Redis restarted, say. Scripts name their keys through `K` (redis-keys.ts), so they
 * take no KEYS: one Redis, not Redis Cluster.
 */
export class RedisScript {
  private readonly source: string;
  private readonly sha: string;

  constructor(body: string) {
    this.source = LUA_KEYS + body;
    this.sha = createHash('sha1').update(this.source).digest('hex');
    EVERY_SCRIPT.push(this);
  }

  /**
   * Loads every script into Redis: called first thing once connected, so that the commands
   * after it find their scripts and run in the order they were sent. (A NOSCRIPT answer would
   * send one again later, after commands sent after it.)
   */
  static loadAll(redis: Redis): void {
    for (const script of EVERY_SCRIPT) {
      redis.script('LOAD', script.source).catch(() => undefined);
    }
  }

  /** What the script returns, with strings as strings. */
  run(redis: Redis, args: readonly Argument[]): Promise<unknown> {
    return this.attempt((command, first) => redis.call(command, first, 0, ...args));
  }

  /** What the script returns, with strings as Buffers: for bytes that are not text. */
  runForBytes(redis: Redis, args: readonly Argument[]): Promise<unknown> {
    return this.attempt((command, first) => redis.callBuffer(command, first, 0, ...args));
  }

  private async attempt(
    call: (command: 'EVALSHA' | 'EVAL', first: string) => Promise<unknown>,
  ): Promise<unknown> {
    try {
      return await call('EVALSHA', this.sha);
    } catch (error) {
      if (!(error instanceof Error) || !error.message.startsWith('NOSCRIPT')) throw error;
      return call('EVAL', this.source);
    }
  }
}

/** A script's reply as a list of strings, or an error saying it was not one. */
export function replyStrings(reply: unknown): string[] {
  if (!Array.isArray(reply) || !reply.every((item) => typeof item === 'string')) {
    throw new Error(`unexpected reply from Redis: ${JSON.stringify(reply)}`);
  }
  return reply;
}
