import { CHAIN_PRELUDE } from "./redis-audit-scripts.js";

/**
 * The Lua scripts of the Redis store. Each write that touches more than one key is one script,
 * so it is atomic on any Redis, Upstash included. Multi-key scripts get the key prefix as
 * ARGV[1] and build their keys from it (the keys an update touches depend on what is stored),
 * so the store needs a single Redis, not a Redis Cluster.
 *
 * A request is the hash `req:<id>` with its JSON and the fields its indexes derive from, so a
 * script can re-index without decoding JSON: json, v (version), repo, status, surf (issue or
 * pull request number, or ""), created (ms), score (the status index's score), due (ms or ""),
 * rtype (the JSON of requestType), by (the agent that opened it), wf (its workflow id, or ""). Scripts do not decode JSON:
 * Upstash's Lua has no cjson. A request last written before `by` existed has none, and is
 * listed only without an agent filter (to agents with `read-all`) until it is written again.
 */

/** The fields a request is stored with (see requestArgs in redis-store.ts). */
export const REQUEST_FIELDS = 16;

const PRELUDE = `
local P = ARGV[1]
${CHAIN_PRELUDE}

local function meta(id)
  local v = redis.call('HMGET', P .. 'req:' .. id, 'repo', 'status', 'surf', 'wf')
  return { repo = v[1], status = v[2], surf = v[3], wf = v[4] }
end

local function unindex(id, m)
  redis.call('ZREM', P .. 'idx:all', id)
  redis.call('ZREM', P .. 'idx:repo:' .. m.repo, id)
  redis.call('ZREM', P .. 'idx:status:' .. m.status, id)
  redis.call('ZREM', P .. 'idx:repo-status:' .. m.status .. ':' .. m.repo, id)
  if m.surf ~= '' then redis.call('ZREM', P .. 'idx:surface:' .. m.repo .. '#' .. m.surf, id) end
  if m.wf and m.wf ~= '' then redis.call('ZREM', P .. 'idx:workflow:' .. m.wf, id) end
  redis.call('ZREM', P .. 'idx:due', id)
  redis.call('ZREM', P .. 'idx:ended', id)
  redis.call('ZREM', P .. 'idx:purge', id)
end

-- Writes and indexes the request whose sixteen fields start at ARGV[i]; returns the next index.
-- A request whose context retention removed leaves the list indexes (and its idempotency key),
-- and its record expires with its audit retention, so Redis does not keep ended requests for ever.
local function put(id, i)
  local repo, status, surf, created, score, due, wf = ARGV[i + 2], ARGV[i + 3], ARGV[i + 4], ARGV[i + 5], ARGV[i + 6], ARGV[i + 7], ARGV[i + 10]
  local ended, purge, ttl, purged, idem = ARGV[i + 11], ARGV[i + 12], ARGV[i + 13], ARGV[i + 14] == '1', ARGV[i + 15]
  redis.call('HSET', P .. 'req:' .. id, 'json', ARGV[i], 'v', ARGV[i + 1], 'repo', repo, 'status', status,
    'surf', surf, 'created', created, 'score', score, 'due', due, 'rtype', ARGV[i + 8], 'by', ARGV[i + 9], 'wf', wf)
  if ended ~= '' then redis.call('ZADD', P .. 'idx:ended', ended, id) end
  if purge ~= '' then redis.call('ZADD', P .. 'idx:purge', purge, id) end
  if purged then
    if idem ~= '' then redis.call('DEL', P .. 'idem:' .. idem) end
    if ttl ~= '' then redis.call('PEXPIRE', P .. 'req:' .. id, ttl) end
    return i + 16
  end
  redis.call('ZADD', P .. 'idx:all', created, id)
  redis.call('ZADD', P .. 'idx:repo:' .. repo, created, id)
  redis.call('ZADD', P .. 'idx:status:' .. status, score, id)
  redis.call('ZADD', P .. 'idx:repo-status:' .. status .. ':' .. repo, score, id)
  if surf ~= '' then redis.call('ZADD', P .. 'idx:surface:' .. repo .. '#' .. surf, created, id) end
  if due ~= '' then redis.call('ZADD', P .. 'idx:due', due, id) end
  if wf ~= '' then redis.call('ZADD', P .. 'idx:workflow:' .. wf, created, id) end
  return i + 16
end

-- Appends the audit entries block (see redis-audit-scripts.ts) and adds jobs (count, then id,
-- JSON, runAt ms, attempts, has-error flag and error each), starting at ARGV[i].
local function effects(i)
  i = appendAudit(i)
  local n = tonumber(ARGV[i])
  i = i + 1
  for _ = 1, n do
    local key = P .. 'job:' .. ARGV[i]
    redis.call('DEL', key)
    redis.call('HSET', key, 'json', ARGV[i + 1], 'attempts', ARGV[i + 3])
    if ARGV[i + 4] == '1' then redis.call('HSET', key, 'error', ARGV[i + 5]) end
    redis.call('ZADD', P .. 'jobs', ARGV[i + 2], ARGV[i])
    i = i + 6
  end
end
`;

/** ARGV: prefix, id, idempotency index key or "", audit heads, request fields, effects. */
export const CREATE = `${PRELUDE}
local id, idem = ARGV[2], ARGV[3]
if idem ~= '' then
  local first = redis.call('GET', P .. 'idem:' .. idem)
  if first then return { 0, redis.call('HGET', P .. 'req:' .. first, 'json') } end
end
if redis.call('EXISTS', P .. 'req:' .. id) == 1 then return { -1 } end
local i, moved = checkHeads(4)
if not i then return moved end
effects(put(id, i))
if idem ~= '' then redis.call('SET', P .. 'idem:' .. idem, id) end
return { 1 }
`;

/**
 * ARGV: prefix, id, expected version, audit heads, request fields, effects. 1 if written, 0 if
 * not; an audit head that moved: -2 and the head as it is.
 */
export const UPDATE = `${PRELUDE}
local id = ARGV[2]
local version = redis.call('HGET', P .. 'req:' .. id, 'v')
if not version or tonumber(version) ~= tonumber(ARGV[3]) then return 0 end
local i, moved = checkHeads(4)
if not i then return moved end
unindex(id, meta(id))
effects(put(id, i))
return 1
`;

/**
 * ARGV: prefix, sorted set key (without prefix), "1" for highest score first, limit, "1" to
 * filter by type, type JSON, "1" to filter by agent, agent, "1" to filter by repository,
 * repository, "1" to filter by status, status (the last two for the workflow index, which has
 * every repository and status in it).
 */
export const LIST = `
local P = ARGV[1]
local key, reverse, limit, filter, rtype = P .. ARGV[2], ARGV[3] == '1', tonumber(ARGV[4]), ARGV[5] == '1', ARGV[6]
local byFilter, by = ARGV[7] == '1', ARGV[8]
local repoFilter, repo, statusFilter, status = ARGV[9] == '1', ARGV[10], ARGV[11] == '1', ARGV[12]
local out = {}
local batch = (filter or byFilter or repoFilter or statusFilter) and math.max(limit, 200) or limit
local start = 0
while #out < limit do
  local ids
  if reverse then ids = redis.call('ZREVRANGE', key, start, start + batch - 1)
  else ids = redis.call('ZRANGE', key, start, start + batch - 1) end
  if #ids == 0 then break end
  for _, id in ipairs(ids) do
    local v = redis.call('HMGET', P .. 'req:' .. id, 'json', 'rtype', 'by', 'repo', 'status')
    if v[1] and (not filter or v[2] == rtype) and (not byFilter or v[3] == by)
      and (not repoFilter or v[4] == repo) and (not statusFilter or v[5] == status) then
      out[#out + 1] = v[1]
      if #out >= limit then break end
    end
  end
  start = start + batch
end
return out
`;

/** ARGV: prefix, now ms, limit. */
export const DUE = `
local P = ARGV[1]
local out = {}
for _, id in ipairs(redis.call('ZRANGEBYSCORE', P .. 'idx:due', '-inf', ARGV[2], 'LIMIT', 0, ARGV[3])) do
  out[#out + 1] = redis.call('HGET', P .. 'req:' .. id, 'json')
end
return out
`;

/** ARGV: prefix, now ms, limit, leased-until ms. Returns id, JSON, attempts, error per job. */
export const CLAIM_JOBS = `
local P = ARGV[1]
local out = {}
for _, id in ipairs(redis.call('ZRANGEBYSCORE', P .. 'jobs', '-inf', ARGV[2], 'LIMIT', 0, ARGV[3])) do
  local key = P .. 'job:' .. id
  redis.call('ZADD', P .. 'jobs', ARGV[4], id)
  local attempts = redis.call('HINCRBY', key, 'attempts', 1)
  local v = redis.call('HMGET', key, 'json', 'error')
  out[#out + 1] = id
  out[#out + 1] = v[1]
  out[#out + 1] = attempts
  out[#out + 1] = v[2]
end
return out
`;

/** ARGV: prefix. Returns id, runAt ms, JSON, attempts, error per job, by runAt. */
export const PENDING_JOBS = `
local P = ARGV[1]
local out = {}
local entries = redis.call('ZRANGE', P .. 'jobs', 0, -1, 'WITHSCORES')
for i = 1, #entries, 2 do
  local v = redis.call('HMGET', P .. 'job:' .. entries[i], 'json', 'attempts', 'error')
  out[#out + 1] = entries[i]
  out[#out + 1] = entries[i + 1]
  out[#out + 1] = v[1]
  out[#out + 1] = v[2]
  out[#out + 1] = v[3]
end
return out
`;

/** ARGV: prefix, id. */
export const COMPLETE_JOB = `
local P = ARGV[1]
redis.call('DEL', P .. 'job:' .. ARGV[2])
redis.call('ZREM', P .. 'jobs', ARGV[2])
return 1
`;

/** ARGV: prefix, id, runAt ms, error. A completed job stays completed. */
export const RETRY_JOB = `
local P = ARGV[1]
local key = P .. 'job:' .. ARGV[2]
if redis.call('EXISTS', key) == 0 then return 0 end
redis.call('ZADD', P .. 'jobs', ARGV[3], ARGV[2])
redis.call('HSET', key, 'error', ARGV[4])
return 1
`;

/** KEYS[1] the delivery; ARGV[1] claim ttl ms. Answers claimed, in_hand or done. */
export const CLAIM_DELIVERY = `
if redis.call("SET", KEYS[1], "claimed", "NX", "PX", ARGV[1]) then return "claimed" end
local state = redis.call("GET", KEYS[1])
if state == "done" then return "done" end
return "in_hand"
`;

/**
 * KEYS: the counter. ARGV: max, ttl ms (0: none). The count after taking, or -1 when none is
 * left. A ttl gives a new counter its expiry and lengthens a shorter one, never shortens one nor
 * gives an expiry to a counter kept forever.
 */
export const TAKE_USE = `
local taken = tonumber(redis.call('GET', KEYS[1]) or '0')
if taken >= tonumber(ARGV[1]) then return -1 end
local count = redis.call('INCR', KEYS[1])
local ttl = tonumber(ARGV[2] or '0')
if ttl > 0 then
  local left = redis.call('PTTL', KEYS[1])
  if (count == 1 and left == -1) or (left >= 0 and left < ttl) then redis.call('PEXPIRE', KEYS[1], ttl) end
end
return count
`;

/** KEYS: the lock. ARGV: owner, ttl ms. 1 if held by the owner now. */
export const ACQUIRE_LOCK = `
local holder = redis.call('GET', KEYS[1])
if holder == ARGV[1] then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return 1
end
if holder then return 0 end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return 1
`;

/** KEYS: the lock. ARGV: owner. */
export const RELEASE_LOCK = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
`;

/**
 * KEYS: the slot. ARGV: now ms, spacing ms. The slot taken (ms): now, or the last slot plus the
 * spacing when that is later. The key lives until the slot's spacing has passed.
 */
export const TAKE_SLOT = `
local now, spacing = tonumber(ARGV[1]), tonumber(ARGV[2])
local last = tonumber(redis.call('GET', KEYS[1]) or '')
local slot = now
if last and last + spacing > now then slot = last + spacing end
redis.call('SET', KEYS[1], string.format('%.0f', slot), 'PX', string.format('%.0f', math.max(1, slot + spacing - now)))
return slot
`;

/**
 * KEYS: the setting. ARGV: its value wrapped as JSON, ttl ms (0: none). Stores it unless one is
 * there; answers the stored one. A ttl gives a new setting its expiry and lengthens a shorter
 * one, never shortens one nor gives an expiry to a setting kept forever.
 */
export const CREATE_SETTING = `
local ttl = tonumber(ARGV[2] or '0')
local stored = redis.call('GET', KEYS[1])
if stored then
  if ttl > 0 then
    local left = redis.call('PTTL', KEYS[1])
    if left >= 0 and left < ttl then redis.call('PEXPIRE', KEYS[1], ttl) end
  end
  return stored
end
if ttl > 0 then
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ttl)
else
  redis.call('SET', KEYS[1], ARGV[1])
end
return ARGV[1]
`;
