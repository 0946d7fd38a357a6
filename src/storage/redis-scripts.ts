/**
 * The Redis engine's writes, each one Lua script so Redis runs it atomically: no other client sees
 * a record without its tags, or a tag pointing at a replaced record. Every script gets the key
 * prefix as ARGV[1]; keys are built inside (the tags of a record are only known once it is read).
 * KEYS[1] is the record or index the script is about, so a Cluster routes it to that key's slot;
 * there the prefix is a hash tag ("{portcullis:}"), which puts every key the script builds in
 * that same slot.
 *
 * Layout under the prefix:
 *   r:<key>  hash  v = JSON value, s = creation stamp (server µs), t = JSON list of tags,
 *                  e = expiry (server epoch ms, when it has a TTL), c = consumed at (epoch ms)
 *            The key itself expires at e (PEXPIREAT), so Redis removes expired records.
 *   t:<tag>  sorted set of record keys scored by their expiry (+inf without TTL). Members past
 *            their score are trimmed whenever the tag is touched, and the tag key expires with
 *            its longest-lived member, so nothing outlives the records it points at.
 * Times come from the Redis server's clock (TIME), the same for every instance.
 */
const PREAMBLE = `
local P = ARGV[1]
local function fmt(n) return string.format('%.17g', n) end
local function clock()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000), t[1] .. string.format('%06d', tonumber(t[2]))
end
local function now_ms() return (clock()) end
local function rkey(k) return P .. 'r:' .. k end
local function tkey(tag) return P .. 't:' .. tag end
-- changed: members were added or removed since the tag's expiry was last set.
local function settle(tk, now, changed)
  if redis.call('ZREMRANGEBYSCORE', tk, '-inf', fmt(now)) == 0 and not changed then return end
  local top = redis.call('ZRANGE', tk, -1, -1, 'WITHSCORES')
  if #top == 0 then return end
  if top[2] == 'inf' then redis.call('PERSIST', tk) else redis.call('PEXPIREAT', tk, top[2]) end
end
local function unlink(k, now)
  local rk = rkey(k)
  local tags = redis.call('HGET', rk, 't')
  if tags then
    for _, tag in ipairs(cjson.decode(tags)) do
      local tk = tkey(tag)
      redis.call('ZREM', tk, k)
      settle(tk, now, true)
    end
  end
  return redis.call('DEL', rk)
end
local function put(k, value, ttl, tags, now, st)
  local rk = rkey(k)
  unlink(k, now)
  local score = 'inf'
  if ttl > 0 then
    score = fmt(now + ttl)
    redis.call('HSET', rk, 'v', value, 's', st, 't', tags, 'e', score)
    redis.call('PEXPIREAT', rk, score)
  else
    redis.call('HSET', rk, 'v', value, 's', st, 't', tags)
  end
  for _, tag in ipairs(cjson.decode(tags)) do
    local tk = tkey(tag)
    redis.call('ZADD', tk, score, k)
    settle(tk, now, true)
  end
end
local function find_by_tag(tag)
  local tk = tkey(tag)
  settle(tk, now_ms())
  local found = {}
  for _, k in ipairs(redis.call('ZRANGE', tk, 0, -1)) do
    local r = redis.call('HMGET', rkey(k), 'v', 'c', 'e', 's')
    if r[1] then
      found[#found + 1] = { k, r[1], r[2] or '', r[3] or '', r[4] or '0' }
    else
      redis.call('ZREM', tk, k)
    end
  end
  return found
end
local function consume(k, now)
  local rk = rkey(k)
  if redis.call('EXISTS', rk) == 0 or redis.call('HEXISTS', rk, 'c') == 1 then return 0 end
  redis.call('HSET', rk, 'c', fmt(now))
  return 1
end
`;

/** ARGV: prefix, key, value JSON, TTL ms (0: none), tags JSON, "1" to write only when absent. Returns 1 when written. */
const PUT = `
local k = ARGV[2]
if ARGV[6] == '1' and redis.call('EXISTS', rkey(k)) == 1 then return 0 end
put(k, ARGV[3], tonumber(ARGV[4]), ARGV[5], clock())
return 1
`;

/** ARGV: prefix, key. Returns 1 for the one caller that marks a live record consumed. */
const CONSUME = `
return consume(ARGV[2], now_ms())
`;

/** ARGV: prefix, key, value JSON, TTL ms (0: none), tags JSON, key to consume. Returns 1 when it consumed and wrote, 0 when it did neither. */
const CONSUME_AND_PUT = `
local now, st = clock()
if consume(ARGV[6], now) == 0 then return 0 end
put(ARGV[2], ARGV[3], tonumber(ARGV[4]), ARGV[5], now, st)
return 1
`;

/** ARGV: prefix, key. */
const DELETE = `
return unlink(ARGV[2], now_ms())
`;

/** ARGV: prefix, tag. Returns [key, value, consumed ms or '', expiry ms or '', stamp] per live record. */
const FIND_BY_TAG = `
return find_by_tag(ARGV[2])
`;

/**
 * Several reads in one command. ARGV: prefix, one letter per read ('r' a record, 't' a tag), then
 * each read's key or tag. Returns per read what `HMGET v c e` returns for a record, or what
 * FIND_BY_TAG returns for a tag.
 */
const READ_MANY = `
local kinds, results = ARGV[2], {}
for i = 1, #kinds do
  local subject = ARGV[i + 2]
  if string.sub(kinds, i, i) == 'r' then
    results[i] = redis.call('HMGET', rkey(subject), 'v', 'c', 'e')
  else
    results[i] = find_by_tag(subject)
  end
end
return results
`;

/** ARGV: prefix, tag. Returns how many live records it deleted. */
const DELETE_BY_TAG = `
local tk = tkey(ARGV[2])
local now = now_ms()
settle(tk, now)
local deleted = 0
for _, k in ipairs(redis.call('ZRANGE', tk, 0, -1)) do deleted = deleted + unlink(k, now) end
redis.call('DEL', tk)
return deleted
`;

/** ARGV: prefix, key, amount, TTL ms of a new counter. Returns [value, expiry ms or ''] as strings. */
const INCREMENT = `
local rk = rkey(ARGV[2])
local by, ttl = tonumber(ARGV[3]), tonumber(ARGV[4])
local r = redis.call('HMGET', rk, 'v', 'e')
if not r[1] then
  local now, st = clock()
  local expires = fmt(now + ttl)
  redis.call('HSET', rk, 'v', fmt(by), 's', st, 't', '[]', 'e', expires)
  redis.call('PEXPIREAT', rk, expires)
  return { fmt(by), expires }
end
local current = cjson.decode(r[1])
if type(current) ~= 'number' then return redis.error_reply('NOT_COUNTER') end
local value = fmt(current + by)
redis.call('HSET', rk, 'v', value)
return { value, r[2] or '' }
`;

export const NOT_COUNTER = 'NOT_COUNTER';

export const SCRIPTS = {
  storePut: PUT,
  storeConsume: CONSUME,
  storeConsumeAndPut: CONSUME_AND_PUT,
  storeDelete: DELETE,
  storeFindByTag: FIND_BY_TAG,
  storeReadMany: READ_MANY,
  storeDeleteByTag: DELETE_BY_TAG,
  storeIncrement: INCREMENT,
} as const;

export type ScriptName = keyof typeof SCRIPTS;

export function scriptSource(name: ScriptName): string {
  return PREAMBLE + SCRIPTS[name];
}

