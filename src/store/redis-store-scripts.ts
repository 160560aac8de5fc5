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

/** ARGV: id, secret hash. An id is added once. */
export const ADD_USER = new RedisScript(`
if redis.call('EXISTS', K.user .. ARGV[1]) == 1 then
  return redis.error_reply('user ' .. ARGV[1] .. ' exists already')
end
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
 * The writes of one turn, from every connection of a node, in order. ARGV: node, then for each
 * write: maxPending, acknowledging user ('' for none), acknowledged up to (applied after the
 * write's messages, and at most to its last delivery), how many runs; then for each run
 * (messages of one sender to one recipient): sender, recipient, how many, their texts (a JSON
 * array), sent now ('1' or '0'). A run is one stream entry whose id is its last delivery, so an
 * acknowledgement trims the runs it covers whole. Returns an outcome for each run: 'u' unknown
 * recipient, 'f' mailbox full, or '<first delivery>:<how many stored>', with '+' when the
 * recipient is connected. Deliveries for users on other nodes are published to
 * those nodes, one message a node, in order.
 */
export const WRITE = new RedisScript(`${WHERE_IS}
local LIMIT = 9007199254740992
local function acknowledge(user, upTo)
  local key = K.user .. user
  local counts = redis.call('HMGET', key, 'acked', 'sent', 'last')
  if not counts[1] then return end
  upTo = math.min(upTo, tonumber(counts[3]))
  if upTo <= tonumber(counts[1]) then return end
  local text = string.format('%d', upTo)
  if upTo > tonumber(counts[2]) then
    redis.call('HSET', key, 'acked', text, 'sent', text)
  else
    redis.call('HSET', key, 'acked', text)
  end
  redis.call('XTRIM', K.mailbox .. user, 'MINID', string.format('%d', upTo + 1))
end
local function firstOf(texts, count)
  local all = cjson.decode(texts)
  local some = {}
  for n = 1, count do some[n] = all[n] end
  return cjson.encode(some)
end
local node = ARGV[1]
local outcomes, places, outbound = {}, {}, {}
local i = 2
while i <= #ARGV do
  local maxPending, runs = tonumber(ARGV[i]), tonumber(ARGV[i + 3])
  local acknowledging, upTo = ARGV[i + 1], tonumber(ARGV[i + 2])
  i = i + 4
  for _ = 1, runs do
    local from, recipient, count, texts = ARGV[i], ARGV[i + 1], tonumber(ARGV[i + 2]), ARGV[i + 3]
    local sentNow = ARGV[i + 4] == '1'
    i = i + 5
    local key = K.user .. recipient
    local counts = redis.call('HMGET', key, 'last', 'acked')
    if not counts[1] then
      outcomes[#outcomes + 1] = 'u'
    else
      local last = tonumber(counts[1])
      local room = math.min(maxPending - (last - tonumber(counts[2])), LIMIT - last, count)
      if room <= 0 then
        outcomes[#outcomes + 1] = 'f'
      else
        if room < count then texts = firstOf(texts, room) end
        local first = string.format('%d', last + 1)
        local newLast = string.format('%d', last + room)
        redis.call('XADD', K.mailbox .. recipient, newLast .. '-0', 'a', first, 'f', from, 'm', texts)
        if places[recipient] == nil then places[recipient] = whereIs(recipient) end
        local at = places[recipient]
        if at or sentNow then
          redis.call('HSET', key, 'last', newLast, 'sent', newLast)
        else
          redis.call('HSET', key, 'last', newLast)
        end
        if at and at ~= node then
          local list = outbound[at] or {}
          list[#list + 1] = '["' .. recipient .. '","' .. first .. '","' .. from .. '",' .. texts .. ']'
          outbound[at] = list
        end
        outcomes[#outcomes + 1] = first .. ':' .. room .. (at and '+' or '')
      end
    end
  end
  if acknowledging ~= '' then acknowledge(acknowledging, upTo) end
end
for at, list in pairs(outbound) do
  redis.call('PUBLISH', K.toNode .. at, '[' .. table.concat(list, ',') .. ']')
end
return outcomes
`);

/**
 * ARGV: user, after, limit. The user's waiting deliveries after "after", at most "limit": returns
 * the highest delivery sent before (those up to it are sent again), then, for each run that
 * holds some of them: the first of them, how many, the sender, the run's first delivery and its
 * texts (a JSON array).
 */
export const WAITING = new RedisScript(`
local key = K.user .. ARGV[1]
local counts = redis.call('HMGET', key, 'acked', 'sent')
if not counts[1] then return {'0'} end
local sent = tonumber(counts[2])
local after = math.max(tonumber(ARGV[2]), tonumber(counts[1]))
local left = tonumber(ARGV[3])
if left <= 0 then return {counts[2]} end
local entries = redis.call('XRANGE', K.mailbox .. ARGV[1],
  string.format('%d', after + 1) .. '-0', '+', 'COUNT', ARGV[3])
local out, highest = {counts[2]}, sent
for _, entry in ipairs(entries) do
  if left <= 0 then break end
  local last = tonumber(string.match(entry[1], '^(%d+)'))
  local fields = entry[2]
  local first = tonumber(fields[2])
  local from = math.max(first, after + 1)
  local take = math.min(last - from + 1, left)
  left = left - take
  out[#out + 1] = string.format('%d', from)
  out[#out + 1] = tostring(take)
  out[#out + 1] = fields[4]
  out[#out + 1] = fields[2]
  out[#out + 1] = fields[6]
  if from + take - 1 > highest then highest = from + take - 1 end
end
if highest > sent then redis.call('HSET', key, 'sent', string.format('%d', highest)) end
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
