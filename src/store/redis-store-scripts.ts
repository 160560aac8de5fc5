import { RedisScript } from '../cluster/redis-script';

/**
 * The Lua scripts of the Redis store: each is atomic, and each is one round trip. Delivery
 * numbers are Lua numbers (doubles) inside a script, exact up to 2^53: the store refuses to
 * count past that. User ids are never computed with, only passed as text.
 */

/** Whether a user is connected, and to which node: the node must be alive. */
const WHERE_IS = `
local function whereIs(user)
  local node = redis.call('HGET', K.where, user)
  if node and redis.call('EXISTS', K.node .. node) == 1 then return node end
  return false
end
`;

/** ARGV: id, secret hash. */
export const ADD_USER = new RedisScript(`
redis.call('HSET', K.user .. ARGV[1], 'secret', ARGV[2], 'last', '0', 'acked', '0', 'sent', '0')
redis.call('SADD', K.users, ARGV[1])
return 'OK'
`);

/** ARGV: id. Forgets the user when nothing waits for it. */
export const RELEASE_USER = new RedisScript(`
local key = K.user .. ARGV[1]
local counts = redis.call('HMGET', key, 'last', 'acked')
if counts[1] and counts[1] == counts[2] then
  redis.call('DEL', key, K.mailbox .. ARGV[1])
  redis.call('SREM', K.users, ARGV[1])
end
return 'OK'
`);

/**
 * ARGV: node, maxPending, acknowledging user ('' for none), acknowledged up to, then for each
 * message: from, recipient, text, sent now ('1' or '0'). Returns an outcome for each message:
 * 'u' unknown recipient, 'f' mailbox full, or the delivery number, with '+' when the recipient
 * is connected. Deliveries for users on other nodes are published to those nodes, in order.
 */
export const WRITE = new RedisScript(`${WHERE_IS}
local node, maxPending = ARGV[1], tonumber(ARGV[2])
if ARGV[3] ~= '' then
  local key, upTo = K.user .. ARGV[3], tonumber(ARGV[4])
  local counts = redis.call('HMGET', key, 'acked', 'sent')
  if counts[1] and upTo > tonumber(counts[1]) then
    local text = string.format('%d', upTo)
    redis.call('HSET', key, 'acked', text)
    if upTo > tonumber(counts[2]) then redis.call('HSET', key, 'sent', text) end
    redis.call('XTRIM', K.mailbox .. ARGV[3], 'MINID', string.format('%d', upTo + 1))
  end
end
local outcomes, places, outbound = {}, {}, {}
for i = 5, #ARGV, 4 do
  local from, recipient, text, sentNow = ARGV[i], ARGV[i + 1], ARGV[i + 2], ARGV[i + 3]
  local key = K.user .. recipient
  local counts = redis.call('HMGET', key, 'last', 'acked')
  if not counts[1] then
    outcomes[#outcomes + 1] = 'u'
  elseif tonumber(counts[1]) - tonumber(counts[2]) >= maxPending
      or tonumber(counts[1]) >= 9007199254740992 then
    outcomes[#outcomes + 1] = 'f'
  else
    local delivery = string.format('%d', tonumber(counts[1]) + 1)
    redis.call('XADD', K.mailbox .. recipient, delivery .. '-0', 'f', from, 'm', text)
    if places[recipient] == nil then places[recipient] = whereIs(recipient) end
    local at = places[recipient]
    if at or sentNow == '1' then
      redis.call('HSET', key, 'last', delivery, 'sent', delivery)
    else
      redis.call('HSET', key, 'last', delivery)
    end
    if at and at ~= node then
      local list = outbound[at] or {}
      list[#list + 1] = {recipient, delivery, from, text}
      outbound[at] = list
    end
    outcomes[#outcomes + 1] = at and (delivery .. '+') or delivery
  end
end
for at, list in pairs(outbound) do
  redis.call('PUBLISH', K.toNode .. at, cjson.encode(list))
end
return outcomes
`);

/**
 * ARGV: user, after, limit. Returns, for each waiting delivery after \`after\`, in order: its
 * number, its sender, its text, and '1' when it was sent before ('0' otherwise).
 */
export const WAITING = new RedisScript(`
local key = K.user .. ARGV[1]
local counts = redis.call('HMGET', key, 'acked', 'sent')
if not counts[1] then return {} end
local sent = tonumber(counts[2])
local from = math.max(tonumber(ARGV[2]), tonumber(counts[1]))
local entries = redis.call('XRANGE', K.mailbox .. ARGV[1],
  string.format('%d', from + 1) .. '-0', '+', 'COUNT', ARGV[3])
local out, last = {}, sent
for _, entry in ipairs(entries) do
  local delivery = string.match(entry[1], '^(%d+)')
  local number = tonumber(delivery)
  out[#out + 1] = delivery
  out[#out + 1] = entry[2][2]
  out[#out + 1] = entry[2][4]
  out[#out + 1] = number <= sent and '1' or '0'
  if number > last then last = number end
end
if last > sent then redis.call('HSET', key, 'sent', string.format('%d', last)) end
return out
`);

/** Every known user, and how many deliveries wait for it: id, waiting, id, waiting, … */
export const USERS = new RedisScript(`
local out = {}
for _, id in ipairs(redis.call('SMEMBERS', K.users)) do
  local counts = redis.call('HMGET', K.user .. id, 'last', 'acked')
  if counts[1] then
    out[#out + 1] = id
    out[#out + 1] = string.format('%d', tonumber(counts[1]) - tonumber(counts[2]))
  end
end
return out
`);
