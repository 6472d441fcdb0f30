// Contact mail kept in Redis, so a request posted on one node reaches its recipient on whichever node they
// connect to. The same rules as the single-process Mailbox (mailbox.ts), each applied atomically by a script:
// the per-sender rate (a token bucket per identity, cluster-wide), the relay-wide byte budget, the caps per pair
// and per recipient (the oldest goes first), the time to live, and kept until acknowledged. A stored mail is
// published in the same script on the recipient's identity channel, so nodes holding the recipient deliver it
// at once; a node whose recipient connects later reads it from the store (deduplicated per connection there).
import type { Redis } from 'ioredis';
import { z } from 'zod';
import { MAX_MAIL_BYTES } from '../../protocol/index.js';
import {
  mailText,
  newMailId,
  type MailStore,
  type MailboxLimits,
  type PostOutcome,
  type StoredMail,
} from '../mailbox.js';

// Keys (P = key prefix):
//   P mo:<to>  list  "<id> <from> <at>", oldest first
//   P m:<to>   hash  id → the serialised `mail` message
//   P mx       zset  "<to> <id>" scored by `at`, for expiry across all boxes
//   P mbytes   string bytes of mail kept cluster-wide
//   P mr:<id>  hash  the sender's token bucket (t: last update ms, v: tokens)
const COMMON = `
local P = ARGV[1]
local function idOf(entry)
  return string.sub(entry, 1, string.find(entry, ' ', 1, true) - 1)
end
local function drop(to, id)
  local mk = P .. 'm:' .. to
  local text = redis.call('HGET', mk, id)
  if not text then return end
  redis.call('HDEL', mk, id)
  redis.call('DECRBY', P .. 'mbytes', #text)
  redis.call('ZREM', P .. 'mx', to .. ' ' .. id)
  local ok = P .. 'mo:' .. to
  local entries = redis.call('LRANGE', ok, 0, -1)
  for i = 1, #entries do
    if idOf(entries[i]) == id then
      redis.call('LREM', ok, 1, entries[i])
      return
    end
  end
end
local function sweep(now, ttl, limit)
  local old = redis.call('ZRANGEBYSCORE', P .. 'mx', '-inf', now - ttl, 'LIMIT', 0, limit)
  for i = 1, #old do
    local sp = string.find(old[i], ' ', 1, true)
    drop(string.sub(old[i], 1, sp - 1), string.sub(old[i], sp + 1))
  end
end
`;

/** ARGV: P, node, to, from, id, now, text, perPair, perRecipient, totalBytes, ttl, tokens per ms, burst. */
const POST = `${COMMON}
local node, to, from, id, now, text = ARGV[2], ARGV[3], ARGV[4], ARGV[5], tonumber(ARGV[6]), ARGV[7]
local perPair, perRecipient, total = tonumber(ARGV[8]), tonumber(ARGV[9]), tonumber(ARGV[10])
local ttl, rate, burst = tonumber(ARGV[11]), tonumber(ARGV[12]), tonumber(ARGV[13])
sweep(now, ttl, 100)
local rk = P .. 'mr:' .. from
local bucket = redis.call('HMGET', rk, 't', 'v')
local tokens = burst
if bucket[1] then
  tokens = math.min(burst, tonumber(bucket[2]) + math.max(0, now - tonumber(bucket[1])) * rate)
end
if tokens < 1 then return 'rate-limited' end
redis.call('HSET', rk, 't', tostring(now), 'v', tostring(tokens - 1))
redis.call('PEXPIRE', rk, math.ceil(burst / rate) + 1000)
if tonumber(redis.call('GET', P .. 'mbytes') or '0') + #text > total then return 'full' end
local ok = P .. 'mo:' .. to
local entries = redis.call('LRANGE', ok, 0, -1)
local mine, oldest = 0, nil
for i = 1, #entries do
  local e = entries[i]
  local a = string.find(e, ' ', 1, true)
  local b = string.find(e, ' ', a + 1, true)
  if string.sub(e, a + 1, b - 1) == from then
    mine = mine + 1
    if oldest == nil then oldest = string.sub(e, 1, a - 1) end
  end
end
if mine >= perPair then drop(to, oldest) end
if redis.call('LLEN', ok) >= perRecipient then drop(to, idOf(redis.call('LINDEX', ok, 0))) end
redis.call('RPUSH', ok, id .. ' ' .. from .. ' ' .. ARGV[6])
redis.call('HSET', P .. 'm:' .. to, id, text)
redis.call('INCRBY', P .. 'mbytes', #text)
redis.call('ZADD', P .. 'mx', now, to .. ' ' .. id)
redis.call('PUBLISH', P .. 's:' .. to, 'M' .. node .. '\\n' .. id .. '\\n' .. text)
return 'queued'
`;

/** ARGV: P, to, now, ttl → id, text, id, text... oldest first (expired mail dropped first). */
const FETCH = `${COMMON}
local to, now, ttl = ARGV[2], tonumber(ARGV[3]), tonumber(ARGV[4])
local ok = P .. 'mo:' .. to
for _ = 1, 1000 do
  local head = redis.call('LINDEX', ok, 0)
  if not head then break end
  local a = string.find(head, ' ', 1, true)
  local b = string.find(head, ' ', a + 1, true)
  if tonumber(string.sub(head, b + 1)) > now - ttl then break end
  drop(to, string.sub(head, 1, a - 1))
end
local out = {}
local entries = redis.call('LRANGE', ok, 0, -1)
for i = 1, #entries do
  local id = idOf(entries[i])
  local text = redis.call('HGET', P .. 'm:' .. to, id)
  if text then
    out[#out + 1] = id
    out[#out + 1] = text
  end
end
return out
`;

/** ARGV: P, to, ids... */
const ACK = `${COMMON}
for i = 3, #ARGV do drop(ARGV[2], ARGV[i]) end
return 1
`;

/** ARGV: P, now, ttl: drops expired mail of boxes nobody fetches. */
const SWEEP = `${COMMON}
sweep(tonumber(ARGV[2]), tonumber(ARGV[3]), 10000)
return 1
`;

interface MailScripts {
  parleyMailPost(...args: (string | number)[]): Promise<unknown>;
  parleyMailFetch(p: string, to: string, now: number, ttl: number): Promise<unknown>;
  parleyMailAck(p: string, to: string, ...ids: string[]): Promise<unknown>;
  parleyMailSweep(p: string, now: number, ttl: number): Promise<unknown>;
}

const PostReply = z.enum(['queued', 'rate-limited', 'full']);
const FetchReply = z.array(z.string());

export class RedisMailStore implements MailStore {
  private readonly redis: Redis & MailScripts;

  constructor(
    redis: Redis,
    private readonly prefix: string,
    private readonly nodeId: string,
    private readonly limits: MailboxLimits,
    private readonly clock: () => number = Date.now,
  ) {
    for (const [name, lua] of Object.entries({
      parleyMailPost: POST,
      parleyMailFetch: FETCH,
      parleyMailAck: ACK,
      parleyMailSweep: SWEEP,
    })) {
      redis.defineCommand(name, { numberOfKeys: 0, lua });
    }
    this.redis = redis as Redis & MailScripts;
  }

  async post(from: string, to: string, bodyJson: string): Promise<PostOutcome> {
    if (Buffer.byteLength(bodyJson) > MAX_MAIL_BYTES) return { result: 'too-large' };
    const l = this.limits;
    const id = newMailId();
    const at = this.clock();
    const text = mailText(id, from, at, bodyJson);
    const reply = PostReply.parse(
      await this.redis.parleyMailPost(
        this.prefix,
        this.nodeId,
        to,
        from,
        id,
        at,
        text,
        l.mailPerPair,
        l.mailPerRecipient,
        l.mailTotalBytes,
        l.mailTtlMs,
        l.mailPerMinute / 60_000,
        l.mailBurst,
      ),
    );
    return reply === 'queued' ? { result: reply, mail: { id, text } } : { result: reply };
  }

  async waiting(to: string): Promise<readonly StoredMail[]> {
    const flat = FetchReply.parse(
      await this.redis.parleyMailFetch(this.prefix, to, this.clock(), this.limits.mailTtlMs),
    );
    const out: StoredMail[] = [];
    for (let i = 0; i + 1 < flat.length; i += 2) out.push({ id: flat[i]!, text: flat[i + 1]! });
    return out;
  }

  async ack(to: string, ids: readonly string[]): Promise<void> {
    if (ids.length > 0) await this.redis.parleyMailAck(this.prefix, to, ...ids);
  }

  /** Drops expired mail of boxes nobody fetches (fetch and post expire what they touch). */
  async sweep(): Promise<void> {
    await this.redis.parleyMailSweep(this.prefix, this.clock(), this.limits.mailTtlMs);
  }
}
