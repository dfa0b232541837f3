import { GENESIS_HASH } from "../core/audit-chain.js";

/**
 * The Redis store's audit chain. Lua on Redis has SHA-1 but no SHA-256 (and Upstash's has no
 * cjson to read an entry), so the hashes are computed in Node from the chain's head, read
 * beforehand, and the write script checks that the head is still the one they were computed from
 * (compare-and-set) before writing anything; when another replica moved it, the script writes
 * nothing and answers the head as it is, and the store links the entries again. Scripts run one
 * at a time, so two replicas can never both append after the same head: the chain never forks.
 *
 * Keys, under the prefix:
 *
 * | key | type | what |
 * |---|---|---|
 * | `audit-n` | string | the last position given (every entry of every repository, in write order) |
 * | `audit-e` | hash | position → the chained entry's JSON |
 * | `audit-p:all`, `audit-p:repo:<repo>`, `audit-p:agent:<agent>`, `audit-p:by:<agent>:<repo>` | zset | positions (score = member), for paging |
 * | `audit-t` | zset | positions by the entry's time (ms), to seek `since` and `until` |
 * | `audit-x` | zset | positions by when their retention ends (ms); entries kept for ever are not in it |
 * | `audit-a` | hash | position → the agent whose request it is (to unindex it when retention removes it) |
 * | `audit-head:<repo>` | hash | `seq`, `hash`, `exp` (the newest entry's expiry, "" for ever), `aseq`, `ahash`, `removed` (the anchor) |
 * | `audit-chain-migrated` | string | set once the lists of entries written before the chain were chained |
 */

/** Lua: checks the heads block at ARGV[i] (count, then repo, seq, hash expected and seq, hash, expiry new); the next index, or nil and the head as it is. */
export const CHAIN_PRELUDE = `
local GENESIS = '${GENESIS_HASH}'
local newHeads = {}

local function checkHeads(i)
  local n = tonumber(ARGV[i])
  i = i + 1
  for _ = 1, n do
    local repo = ARGV[i]
    local cur = redis.call('HMGET', P .. 'audit-head:' .. repo, 'seq', 'hash', 'exp')
    local seq, hash = cur[1] or '0', cur[2] or GENESIS
    if seq ~= ARGV[i + 1] or hash ~= ARGV[i + 2] then
      return nil, { -2, repo, seq, hash, cur[3] or '0' }
    end
    newHeads[#newHeads + 1] = { repo, ARGV[i + 3], ARGV[i + 4], ARGV[i + 5] }
    i = i + 6
  end
  return i
end

-- Appends the entries block at ARGV[i] (count, then repo, agent or "", JSON, time ms, expiry ms
-- or "" each) and writes the heads checked before; returns the next index.
local function appendAudit(i)
  local n = tonumber(ARGV[i])
  i = i + 1
  for _ = 1, n do
    local repo, agent, at, exp = ARGV[i], ARGV[i + 1], ARGV[i + 3], ARGV[i + 4]
    local pos = redis.call('INCR', P .. 'audit-n')
    redis.call('HSET', P .. 'audit-e', pos, ARGV[i + 2])
    redis.call('ZADD', P .. 'audit-p:all', pos, pos)
    redis.call('ZADD', P .. 'audit-p:repo:' .. repo, pos, pos)
    if agent ~= '' then
      redis.call('ZADD', P .. 'audit-p:agent:' .. agent, pos, pos)
      redis.call('ZADD', P .. 'audit-p:by:' .. agent .. ':' .. repo, pos, pos)
      redis.call('HSET', P .. 'audit-a', pos, agent)
    end
    redis.call('ZADD', P .. 'audit-t', at, pos)
    if exp ~= '' then redis.call('ZADD', P .. 'audit-x', exp, pos) end
    i = i + 5
  end
  for _, h in ipairs(newHeads) do
    redis.call('HSET', P .. 'audit-head:' .. h[1], 'seq', h[2], 'hash', h[3], 'exp', h[4])
  end
  return i
end
`;

/**
 * ARGV: prefix, a list of entries written before the chain (without prefix), how many of its
 * first entries these are, heads block, entries block. Appends them and drops them from the
 * list in one step, so a migration cut short resumes where it stopped.
 */
export const AUDIT_MIGRATE = `
local P = ARGV[1]
${CHAIN_PRELUDE}
local i, mismatch = checkHeads(4)
if not i then return mismatch end
appendAudit(i)
redis.call('LTRIM', P .. ARGV[2], tonumber(ARGV[3]), -1)
return { 1 }
`;

/** ARGV: prefix, sorted set (without prefix), after (exclusive), before (exclusive, or +inf), count. Returns position, JSON, expiry, time per entry. */
export const AUDIT_RANGE = `
local P = ARGV[1]
local before = ARGV[4] == '+inf' and '+inf' or ('(' .. ARGV[4])
local out = {}
for _, pos in ipairs(redis.call('ZRANGEBYSCORE', P .. ARGV[2], '(' .. ARGV[3], before, 'LIMIT', 0, tonumber(ARGV[5]))) do
  out[#out + 1] = pos
  out[#out + 1] = redis.call('HGET', P .. 'audit-e', pos) or ''
  out[#out + 1] = redis.call('ZSCORE', P .. 'audit-x', pos) or ''
  out[#out + 1] = redis.call('ZSCORE', P .. 'audit-t', pos) or ''
end
return out
`;

/** ARGV: prefix, ms. The position of the first entry (by time) at or after ms, or -1. */
export const AUDIT_SEEK = `
local found = redis.call('ZRANGEBYSCORE', ARGV[1] .. 'audit-t', ARGV[2], '+inf', 'LIMIT', 0, 1)
if #found == 0 then return -1 end
return tonumber(found[1])
`;

/** ARGV: prefix, now ms, cutoff ms or "". JSON of up to 200 entries whose retention ran out, and 200 older than the cutoff. */
export const AUDIT_CANDIDATES = `
local P = ARGV[1]
local out = {}
local function add(positions)
  for _, pos in ipairs(positions) do out[#out + 1] = redis.call('HGET', P .. 'audit-e', pos) or '' end
end
add(redis.call('ZRANGEBYSCORE', P .. 'audit-x', '-inf', ARGV[2], 'LIMIT', 0, 200))
if ARGV[3] ~= '' then add(redis.call('ZRANGEBYSCORE', P .. 'audit-t', '-inf', ARGV[3], 'LIMIT', 0, 200)) end
return out
`;

/**
 * ARGV: prefix, repo, k, the chain's first k positions, anchor seq, anchor hash, removed at.
 * Removes them if they are still the chain's first k (else 0), and moves the anchor past them.
 */
export const AUDIT_PURGE = `
local P = ARGV[1]
local repo, k = ARGV[2], tonumber(ARGV[3])
local first = redis.call('ZRANGE', P .. 'audit-p:repo:' .. repo, 0, k - 1)
if #first ~= k then return 0 end
for j = 1, k do if first[j] ~= ARGV[3 + j] then return 0 end end
for j = 1, k do
  local pos = first[j]
  local agent = redis.call('HGET', P .. 'audit-a', pos)
  if agent then
    redis.call('ZREM', P .. 'audit-p:agent:' .. agent, pos)
    redis.call('ZREM', P .. 'audit-p:by:' .. agent .. ':' .. repo, pos)
    redis.call('HDEL', P .. 'audit-a', pos)
  end
  redis.call('ZREM', P .. 'audit-p:all', pos)
  redis.call('ZREM', P .. 'audit-p:repo:' .. repo, pos)
  redis.call('ZREM', P .. 'audit-t', pos)
  redis.call('ZREM', P .. 'audit-x', pos)
  redis.call('HDEL', P .. 'audit-e', pos)
end
redis.call('HSET', P .. 'audit-head:' .. repo, 'aseq', ARGV[4 + k], 'ahash', ARGV[5 + k], 'removed', ARGV[6 + k])
return k
`;

/** ARGV: prefix, now ms, cutoff ms or "", limit. JSON of requests whose context is due for removal. */
export const CONTEXT_EXPIRED = `
local P = ARGV[1]
local limit = tonumber(ARGV[4])
local seen, out = {}, {}
local function add(ids)
  for _, id in ipairs(ids) do
    if not seen[id] and #out < limit then
      seen[id] = true
      local json = redis.call('HGET', P .. 'req:' .. id, 'json')
      if json then out[#out + 1] = json end
    end
  end
end
add(redis.call('ZRANGEBYSCORE', P .. 'idx:purge', '-inf', ARGV[2], 'LIMIT', 0, limit))
if ARGV[3] ~= '' then add(redis.call('ZRANGEBYSCORE', P .. 'idx:ended', '-inf', ARGV[3], 'LIMIT', 0, limit)) end
return out
`;

/** ARGV: prefix, a status index (without prefix), start, count. The ids and JSON of that slice. */
export const ENDED_SLICE = `
local P = ARGV[1]
local out = {}
for _, id in ipairs(redis.call('ZRANGE', P .. ARGV[2], tonumber(ARGV[3]), tonumber(ARGV[3]) + tonumber(ARGV[4]) - 1)) do
  out[#out + 1] = id
  out[#out + 1] = redis.call('HGET', P .. 'req:' .. id, 'json') or ''
end
return out
`;

/** ARGV: prefix, then id, ended ms, purge ms or "" for each request: indexes them for retention (if still ended). */
export const INDEX_ENDED = `
local P = ARGV[1]
for i = 2, #ARGV, 3 do
  local id, ended, purge = ARGV[i], ARGV[i + 1], ARGV[i + 2]
  local status = redis.call('HGET', P .. 'req:' .. id, 'status')
  if status and status ~= 'pending' then
    redis.call('HSET', P .. 'req:' .. id, 'ended', ended, 'purge', purge)
    redis.call('ZADD', P .. 'idx:ended', ended, id)
    if purge ~= '' then redis.call('ZADD', P .. 'idx:purge', purge, id) end
  end
end
return 1
`;

/** ARGV: cursor, pattern. SCAN's next cursor, then the keys found. */
export const SCAN = `
local found = redis.call('SCAN', ARGV[1], 'MATCH', ARGV[2], 'COUNT', 500)
local out = { found[1] }
for _, key in ipairs(found[2]) do out[#out + 1] = key end
return out
`;
