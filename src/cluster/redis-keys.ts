/**
 * Where a cluster keeps its state in Redis. Every key and channel starts with `chat:`, so one
 * Redis can hold other data beside it. The Lua scripts name the same keys through
 * `LUA_KEYS`, defined from these.
 */
export const REDIS_KEYS = {
  /** The last user id given out (a counter, INCRBY). */
  lastUserId: 'chat:last-user-id',
  /** Every known user's id (a set). */
  users: 'chat:users',
  /** `chat:user:<id>`: secret (SHA-256), last, acked, sent (a hash). */
  user: 'chat:user:',
  /** `chat:mailbox:<id>`: the user's waiting deliveries (a stream, entry id `<delivery>-0`). */
  mailbox: 'chat:mailbox:',
  /** Which node each connected user is on (a hash: user id → node name). */
  where: 'chat:where',
  /** The names of the nodes seen (a set); a node is alive while its `node:` key lives. */
  nodes: 'chat:nodes',
  /** `chat:node:<name>`: the node's latest report (JSON), expiring unless the node beats. */
  node: 'chat:node:',
  /** `chat:here:<name>`: the ids of the users connected to that node (a set). */
  here: 'chat:here:',
  /** `chat:to-node:<name>`: the channel of deliveries for users on that node. */
  toNode: 'chat:to-node:',
  /** The channel of signals for every node: announcements, kicks, takeovers. */
  signals: 'chat:signals',
} as const;

/** The keys as a Lua table `K`, for the head of every script. */
export const LUA_KEYS = `local K = {${Object.entries(REDIS_KEYS)
  .map(([name, key]) => `${name} = '${key}'`)
  .join(', ')}}\n`;
