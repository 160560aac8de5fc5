import { RedisScript } from './redis-script';

/**
 * The Lua scripts of presence: which node each connected user is on, which nodes are alive.
 * A node is alive while its key `node:<name>` lives: every heartbeat renews it for a few
 * seconds, and a node that died without a word is gone when it expires.
 */

/** Forgets a node's users (only where they are still said to be on it), and the node. */
const FORGET = `
local function forget(name)
  for _, id in ipairs(redis.call('SMEMBERS', K.here .. name)) do
    if redis.call('HGET', K.where, id) == name then redis.call('HDEL', K.where, id) end
  end
  redis.call('DEL', K.here .. name)
end
local function heldByAnother(name, instance)
  local report = redis.call('GET', K.node .. name)
  return report and cjson.decode(report).instance ~= instance
end
`;

/** ARGV: node, id. */
export const JOIN = new RedisScript(`
redis.call('HSET', K.where, ARGV[2], ARGV[1])
redis.call('SADD', K.here .. ARGV[1], ARGV[2])
return 'OK'
`);

/** ARGV: node, id. A user that went on to another node stays where it is now. */
export const LEAVE = new RedisScript(`
if redis.call('HGET', K.where, ARGV[2]) == ARGV[1] then redis.call('HDEL', K.where, ARGV[2]) end
redis.call('SREM', K.here .. ARGV[1], ARGV[2])
return 'OK'
`);

/**
 * ARGV: node, instance, status (JSON), ttl in ms, then the ids of the node's users. Returns
 * 'OK', or 'held' with how many ms the name is still held by another live process.
 */
export const CLAIM = new RedisScript(`${FORGET}
local name = ARGV[1]
if heldByAnother(name, ARGV[2]) then return {'held', redis.call('PTTL', K.node .. name)} end
forget(name)
redis.call('SET', K.node .. name, ARGV[3], 'PX', ARGV[4])
redis.call('SADD', K.nodes, name)
for i = 5, #ARGV do
  redis.call('HSET', K.where, ARGV[i], name)
  redis.call('SADD', K.here .. name, ARGV[i])
end
return {'OK'}
`);

/**
 * ARGV: node, instance, status (JSON), ttl in ms, how many users the node has. Renews the node's
 * key, and forgets the nodes whose keys have expired. Returns 'OK', or 'expired' when this
 * node's own key had expired or Redis counts other users for it (presence changes were lost
 * while Redis was away): it must claim its name again, with its users.
 */
export const BEAT = new RedisScript(`${FORGET}
local name = ARGV[1]
if redis.call('EXISTS', K.node .. name) == 0 or heldByAnother(name, ARGV[2])
    or redis.call('SCARD', K.here .. name) ~= tonumber(ARGV[5]) then
  return 'expired'
end
redis.call('SET', K.node .. name, ARGV[3], 'PX', ARGV[4])
for _, other in ipairs(redis.call('SMEMBERS', K.nodes)) do
  if redis.call('EXISTS', K.node .. other) == 0 then
    forget(other)
    redis.call('SREM', K.nodes, other)
  end
end
return 'OK'
`);

/** ARGV: node, instance. A node that stops says so: it is gone at once, not when its key expires. */
export const DEPART = new RedisScript(`${FORGET}
if heldByAnother(ARGV[1], ARGV[2]) then return 'OK' end
forget(ARGV[1])
redis.call('DEL', K.node .. ARGV[1])
redis.call('SREM', K.nodes, ARGV[1])
return 'OK'
`);

/** For each live node: its name, its status (JSON), how many users, then their ids. */
export const NODES = new RedisScript(`
local out = {}
for _, name in ipairs(redis.call('SMEMBERS', K.nodes)) do
  local status = redis.call('GET', K.node .. name)
  if status then
    local users = redis.call('SMEMBERS', K.here .. name)
    out[#out + 1] = name
    out[#out + 1] = status
    out[#out + 1] = tostring(#users)
    for _, id in ipairs(users) do out[#out + 1] = id end
  end
end
return out
`);
