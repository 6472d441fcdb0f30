// The presence scripts. Each runs atomically inside Redis, so the cluster-wide count of an identity's
// connections and the online/offline announcements can never disagree, whatever the nodes do concurrently.
//
// Keys (P = key prefix):
//   P i:<id>     hash  node id → connections of <id> on that node (the identity's nodes)
//   P n:<node>   set   identities with connections on <node>
//   P nodes      set   live nodes
//   P hb:<node>  string heartbeat, expires after the TTL
//   P off        zset  identities whose last connection left, to be announced offline at the score (ms)
//   P seq        counter ordering every presence announcement
// Channels: P p:<id> presence events "<seq> <1|0>"; P s:<id> signals and channel offers for <id>;
// P c:<node> subscribed by <node> while it lives (its subscriber count is a liveness signal).

/** Shared Lua: now in ms (Redis's clock, the same for every node), announce, reap. */
const COMMON = `
local P = ARGV[1]
local function now_ms()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
local function announce(id, online)
  local seq = redis.call('INCR', P .. 'seq')
  redis.call('PUBLISH', P .. 'p:' .. id, seq .. (online and ' 1' or ' 0'))
end
-- An identity whose node count just became 0: offline after the grace unless a connection comes back.
local function leaving(id, grace)
  redis.call('ZADD', P .. 'off', 'NX', now_ms() + grace, id)
end
-- An identity whose node count just became 1: online, unless its offline was still pending (never announced).
local function arriving(id)
  if redis.call('ZREM', P .. 'off', id) == 0 then announce(id, true) end
end
local function reap(node, grace)
  if redis.call('SREM', P .. 'nodes', node) == 0 then return false end
  local key = P .. 'n:' .. node
  local ids = redis.call('SMEMBERS', key)
  for i = 1, #ids do
    local h = P .. 'i:' .. ids[i]
    redis.call('HDEL', h, node)
    if redis.call('HLEN', h) == 0 then leaving(ids[i], grace) end
  end
  redis.call('DEL', key, P .. 'hb:' .. node)
  return true
end
`;

/** ARGV: P, node, id, max → total connections of id after admission, or -1 when at the cap. */
export const UP = `${COMMON}
local node, id, max = ARGV[2], ARGV[3], tonumber(ARGV[4])
local h = P .. 'i:' .. id
local counts = redis.call('HVALS', h)
local total = 0
for i = 1, #counts do total = total + tonumber(counts[i]) end
if total >= max then return -1 end
redis.call('HINCRBY', h, node, 1)
redis.call('SADD', P .. 'n:' .. node, id)
if #counts == 0 then arriving(id) end
return total + 1
`;

/** ARGV: P, node, id, grace → the node's remaining connections of id. */
export const DOWN = `${COMMON}
local node, id, grace = ARGV[2], ARGV[3], tonumber(ARGV[4])
local h = P .. 'i:' .. id
if redis.call('HEXISTS', h, node) == 0 then return 0 end
local n = redis.call('HINCRBY', h, node, -1)
if n <= 0 then
  redis.call('HDEL', h, node)
  redis.call('SREM', P .. 'n:' .. node, id)
  if redis.call('HLEN', h) == 0 then leaving(id, grace) end
end
return n
`;

/**
 * ARGV: P, node, ttl, grace, minAge. Heartbeat of this node; reaps nodes whose heartbeat expired or whose
 * channel lost its subscriber (a killed process: its sockets close at once); announces offline identities
 * whose grace ran out. Returns {1 if this node had been reaped (it must re-assert), reaped nodes...}.
 */
export const TICK = `${COMMON}
local node, ttl, grace = ARGV[2], tonumber(ARGV[3]), tonumber(ARGV[4])
redis.call('SET', P .. 'hb:' .. node, '1', 'PX', ttl)
local out = { redis.call('SADD', P .. 'nodes', node) }
local nodes = redis.call('SMEMBERS', P .. 'nodes')
for i = 1, #nodes do
  local other = nodes[i]
  if other ~= node then
    local dead = redis.call('EXISTS', P .. 'hb:' .. other) == 0
    if not dead then
      local subs = redis.call('PUBSUB', 'NUMSUB', P .. 'c:' .. other)
      dead = tonumber(subs[2]) == 0
    end
    if dead and reap(other, grace) then out[#out + 1] = other end
  end
end
local due = redis.call('ZRANGEBYSCORE', P .. 'off', '-inf', now_ms(), 'LIMIT', 0, 1000)
for i = 1, #due do
  redis.call('ZREM', P .. 'off', due[i])
  if redis.call('HLEN', P .. 'i:' .. due[i]) == 0 then announce(due[i], false) end
end
return out
`;

/**
 * ARGV: P, node, ttl, grace, then id, count pairs: this node's exact connections. Replaces what Redis holds
 * for the node (after a Redis restart or failover, after being reaped, and every minute against drift).
 */
export const ASSERT = `${COMMON}
local node, ttl, grace = ARGV[2], tonumber(ARGV[3]), tonumber(ARGV[4])
redis.call('SET', P .. 'hb:' .. node, '1', 'PX', ttl)
redis.call('SADD', P .. 'nodes', node)
local key = P .. 'n:' .. node
local keep = {}
for i = 5, #ARGV, 2 do
  local id = ARGV[i]
  keep[id] = true
  local h = P .. 'i:' .. id
  local before = redis.call('HLEN', h)
  redis.call('HSET', h, node, ARGV[i + 1])
  redis.call('SADD', key, id)
  if before == 0 then arriving(id) end
end
local held = redis.call('SMEMBERS', key)
for i = 1, #held do
  local id = held[i]
  if not keep[id] then
    local h = P .. 'i:' .. id
    redis.call('HDEL', h, node)
    redis.call('SREM', key, id)
    if redis.call('HLEN', h) == 0 then leaving(id, grace) end
  end
end
return #held
`;

/** ARGV: P, node, grace. A node leaving on purpose. */
export const LEAVE = `${COMMON}
reap(ARGV[2], tonumber(ARGV[3]))
return 1
`;

/** ARGV: P, ids... → {seq, 1|0 per id}: online means some node holds it or its offline is not announced yet. */
export const STATE = `${COMMON}
local out = { tonumber(redis.call('GET', P .. 'seq') or '0') }
for i = 2, #ARGV do
  local id = ARGV[i]
  local on = redis.call('HLEN', P .. 'i:' .. id) > 0 or redis.call('ZSCORE', P .. 'off', id) ~= false
  out[#out + 1] = on and 1 or 0
end
return out
`;

/**
 * ARGV: channel, message, channel, message... → receivers per channel. Every signal batch of one tick in one
 * command: the Redis client's cost is per command (a command object, a promise, a reply), not per byte.
 */
export const PUBLISH_MANY = `
local out = {}
for i = 1, #ARGV, 2 do out[#out + 1] = redis.call('PUBLISH', ARGV[i], ARGV[i + 1]) end
return out
`;
