"""Every Redis key name and Lua script notifierd uses, in one place."""

from __future__ import annotations

from dataclasses import dataclass

from redis.asyncio import Redis
from redis.commands.core import AsyncScript

DEFAULT_PREFIX = "notifierd"
# Infixes of the per-consumer keys that FETCH_BATCH builds for *another* consumer (the owner of
# an order key), from the prefix it is given; Keys.held and Keys.handoff use the same.
HELD = ":held:"
HANDOFF = ":handoff:"


@dataclass(frozen=True, slots=True)
class Keys:
    """Key names under one prefix; ``queue`` may be overridden (``notifierd run --queue``)."""

    prefix: str = DEFAULT_PREFIX
    queue_name: str | None = None

    def __init__(self, prefix: str = DEFAULT_PREFIX, queue: str | None = None) -> None:
        object.__setattr__(self, "prefix", prefix)
        object.__setattr__(self, "queue_name", queue)

    @property
    def queue(self) -> str:
        """The list producers LPUSH requests onto; consumers take from the right (FIFO)."""
        return self.queue_name or self.default_queue

    @property
    def default_queue(self) -> str:
        return f"{self.prefix}:requests"

    @property
    def consumers(self) -> str:
        """A set of the ids of this queue's consumers that may hold requests.

        One set per queue: a replica recovers only what consumers of its own queue held and
        puts it back on that queue, never onto another deployment's. The default queue keeps
        the set's original name, so replicas of an older version still find each other.
        """
        if self.queue == self.default_queue:
            return f"{self.prefix}:consumers"
        return f"{self.prefix}:consumers:{self.queue}"

    @property
    def owners(self) -> str:
        """A hash: order key -> the consumer that holds requests of it (see FETCH_BATCH)."""
        return f"{self.prefix}:owners:{self.queue}"

    def held(self, consumer_id: str) -> str:
        """A hash: order key -> how many requests of it one consumer holds."""
        return f"{self.prefix}{HELD}{consumer_id}"

    def handoff(self, consumer_id: str) -> str:
        """Requests other consumers took for an order key this consumer owns, oldest right."""
        return f"{self.prefix}{HANDOFF}{consumer_id}"

    @property
    def rejected(self) -> str:
        """A list of JSON records for requests that were not valid (newest first)."""
        return f"{self.prefix}:rejected"

    def processing(self, consumer_id: str) -> str:
        """The requests one consumer has taken and not yet acknowledged."""
        return f"{self.prefix}:processing:{consumer_id}"

    def heartbeat(self, consumer_id: str) -> str:
        """Exists (with a TTL) while the consumer is alive."""
        return f"{self.prefix}:heartbeat:{consumer_id}"

    def dedup(self, key: str) -> str:
        return f"{self.prefix}:dedup:{key}"

    def ratelimit(self, limit_key: str, algorithm: str = "sliding_window") -> str:
        # The algorithm is part of the name: a config change from one to the other must not
        # meet a key of the other Redis type (ZSET vs HASH → WRONGTYPE).
        return f"{self.prefix}:ratelimit:{algorithm}:{limit_key}"


# Requests of one *order key* — one alert (its dedup key, else its id) or one request id — are
# applied in queue order across every consumer of a queue: the first consumer to take a request
# of a key owns the key until it has acknowledged (or returned) every request of it it holds,
# and a request of that key another consumer takes meanwhile is handed to the owner instead of
# processed. `owners` maps key -> consumer; each consumer's `held` hash counts its requests per
# key (requests handed to it included), so ownership ends when the count reaches 0.
# order_key() mirrors notifierd.request.Request.order_key. A request larger than 64 KiB is not decoded
# (Redis runs one script at a time): it keeps its place in the queue but not its key's order.
_ORDER = """
local function order_key(raw)
  if #raw > 65536 then return nil end
  local ok, req = pcall(cjson.decode, raw)
  if not ok or type(req) ~= 'table' then return nil end
  local id, dedup = req['id'], req['dedup_key']
  if req['kind'] == 'alert' then
    if type(dedup) == 'string' and dedup ~= '' then return 'alert:' .. dedup end
    if type(id) == 'string' and id ~= '' then return 'alert:' .. id end
    return nil
  end
  if type(id) == 'string' and id ~= '' then return 'id:' .. id end
  return nil
end

-- One request of key k is no longer held by consumer `me` (its `held` hash).
local function unhold(owners, held, me, k)
  if not k then return end
  if redis.call('HINCRBY', held, k, -1) <= 0 then
    redis.call('HDEL', held, k)
    if redis.call('HGET', owners, k) == me then redis.call('HDEL', owners, k) end
  end
end

-- A consumer gives up every key it owns (it stopped, or died and was recovered).
local function drop_holds(owners, held, me)
  for _, k in ipairs(redis.call('HKEYS', held)) do
    if redis.call('HGET', owners, k) == me then redis.call('HDEL', owners, k) end
  end
  redis.call('DEL', held)
end
"""

# KEYS[1] queue, KEYS[2] processing, KEYS[3] consumers set, KEYS[4] heartbeat, KEYS[5] owners,
# KEYS[6] held, KEYS[7] handoff; ARGV[1] max items, ARGV[2] consumer id, ARGV[3] heartbeat TTL
# ms, ARGV[4] heartbeat value, ARGV[5] key prefix (to name another consumer's held and handoff).
# Returns the items taken, oldest first: first those handed to us (earlier in queue order than
# anything still queued), then up to the rest from the queue. At most ARGV[1] queued items are
# looked at, so a batch whose items all go to their owners returns fewer (even none).
# Taking also registers and beats: a consumer that recover() wrote off during a long pause
# must not hold requests while absent from the set (they would never be recovered).
FETCH_BATCH = (
    _ORDER
    + """
redis.call('SADD', KEYS[3], ARGV[2])
redis.call('SET', KEYS[4], ARGV[4], 'PX', ARGV[3])
local me = ARGV[2]
local n = tonumber(ARGV[1])
local moved = {}
while #moved < n do
  local item = redis.call('LMOVE', KEYS[7], KEYS[2], 'RIGHT', 'LEFT')
  if not item then break end
  moved[#moved + 1] = item
end
for _ = 1, n - #moved do
  local item = redis.call('RPOP', KEYS[1])
  if not item then break end
  local k = order_key(item)
  local owner = k and redis.call('HGET', KEYS[5], k)
  if owner and owner ~= me then
    redis.call('LPUSH', ARGV[5] .. ':handoff:' .. owner, item)
    redis.call('HINCRBY', ARGV[5] .. ':held:' .. owner, k, 1)
  else
    if k then
      redis.call('HSET', KEYS[5], k, me)
      redis.call('HINCRBY', KEYS[6], k, 1)
    end
    redis.call('LPUSH', KEYS[2], item)
    moved[#moved + 1] = item
  end
end
return moved
"""
)

# KEYS[1] processing, KEYS[2] queue, KEYS[3] handoff, KEYS[4] owners, KEYS[5] held;
# ARGV[1] consumer id, ARGV[2..] the items to give back, oldest first.
# Everything handed to us goes back too (we stop taking), behind the given items: they are
# later in queue order. Only an item still in the processing list goes back: one another
# replica already recovered must not be queued twice. Returns how many items went back.
RELEASE = (
    _ORDER
    + """
local released = 0
while true do
  -- Newest first onto the consuming end: the oldest handed-over item ends up taken first.
  local item = redis.call('LMOVE', KEYS[3], KEYS[2], 'LEFT', 'RIGHT')
  if not item then break end
  unhold(KEYS[4], KEYS[5], ARGV[1], order_key(item))
  released = released + 1
end
for i = #ARGV, 2, -1 do
  if redis.call('LREM', KEYS[1], 1, ARGV[i]) == 1 then
    redis.call('RPUSH', KEYS[2], ARGV[i])
    unhold(KEYS[4], KEYS[5], ARGV[1], order_key(ARGV[i]))
    released = released + 1
  end
end
return released
"""
)

# KEYS[1] processing, KEYS[2] owners, KEYS[3] held; ARGV[1] consumer id, ARGV[2..] the items
# whose outcome is durable. One call for a whole batch. Returns how many were still held (one
# another replica recovered meanwhile is not, and its key is no longer ours either).
ACK = (
    _ORDER
    + """
local removed = 0
for i = 2, #ARGV do
  if redis.call('LREM', KEYS[1], 1, ARGV[i]) == 1 then
    removed = removed + 1
    unhold(KEYS[2], KEYS[3], ARGV[1], order_key(ARGV[i]))
  end
end
return removed
"""
)

# KEYS[1] rejected list, KEYS[2] processing, KEYS[3] owners, KEYS[4] held; ARGV[1] consumer
# id, ARGV[2] the item, ARGV[3] its rejection record, ARGV[4] how many records the list keeps.
REJECT = (
    _ORDER
    + """
redis.call('LPUSH', KEYS[1], ARGV[3])
redis.call('LTRIM', KEYS[1], 0, tonumber(ARGV[4]) - 1)
if redis.call('LREM', KEYS[2], 1, ARGV[2]) == 1 then
  unhold(KEYS[3], KEYS[4], ARGV[1], order_key(ARGV[2]))
end
return 1
"""
)

# KEYS[1] consumers set, KEYS[2] heartbeat, KEYS[3] processing, KEYS[4] queue, KEYS[5] owners,
# KEYS[6] held, KEYS[7] handoff; ARGV[1] id, ARGV[2] '1' to skip the heartbeat check (our own
# id at start). Returns -1 when the consumer is alive, else how many items went back onto the
# queue. Atomic, so two replicas recovering the same dead consumer move each item exactly once.
RECOVER = (
    _ORDER
    + """
if ARGV[2] ~= '1' and redis.call('EXISTS', KEYS[2]) == 1 then
  return -1
end
local moved = 0
-- From the left (newest) onto the consuming end, handed-over items first: they are later in
-- queue order than the ones being processed, which so end up taken first, oldest first.
for _, list in ipairs({KEYS[7], KEYS[3]}) do
  while true do
    local item = redis.call('LMOVE', list, KEYS[4], 'LEFT', 'RIGHT')
    if not item then break end
    moved = moved + 1
  end
end
drop_holds(KEYS[5], KEYS[6], ARGV[1])
redis.call('SREM', KEYS[1], ARGV[1])
return moved
"""
)

# KEYS[1] consumers set, KEYS[2] heartbeat, KEYS[3] processing, KEYS[4] handoff, KEYS[5]
# owners, KEYS[6] held; ARGV[1] id. Deregister only a consumer that holds nothing; one still
# holding requests stays for recover().
DEREGISTER = (
    _ORDER
    + """
if redis.call('LLEN', KEYS[3]) > 0 or redis.call('LLEN', KEYS[4]) > 0 then
  return 0
end
drop_holds(KEYS[5], KEYS[6], ARGV[1])
redis.call('SREM', KEYS[1], ARGV[1])
redis.call('DEL', KEYS[2])
return 1
"""
)

# The token bucket's refill, shared so admission and `ratelimit status` cannot disagree: the
# tokens a bucket holds at ``now`` (ms), a bucket never used being full.
_BUCKET_TOKENS = """
local function bucket_tokens(key, capacity, rate, now)
  local stored = redis.call('HMGET', key, 'tokens', 'ts')
  local tokens = tonumber(stored[1])
  local ts = tonumber(stored[2])
  if tokens == nil or ts == nil then
    return capacity
  end
  return math.min(capacity, tokens + math.max(0, now - ts) * rate)
end
"""

# KEYS: one rate-limit key per limit. ARGV[1] a unique token for this call, ARGV[2] how many
# deliveries want admission (at most a few hundred), then four values per limit: algorithm
# ('s' sliding window | 't' token bucket), limit, window ms, capacity.
# Admits as many of the wanted as every limit allows now, and consumes that many from each:
# the first value returned is that number. Then one wait per limit, in ms, until one delivery
# more would be admitted (0 for a limit that would admit it now; all 0 when every wanted one
# was admitted). Check-all-then-consume in one script, so a delivery never holds a slot of
# limit A while limit B refuses it, and one call serves a whole queue of waiters. Time is the
# server's, so every replica measures windows on the same clock.
RATE_LIMIT = (
    _BUCKET_TOKENS
    + """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + tonumber(t[2]) / 1000
local token = ARGV[1]
local wanted = tonumber(ARGV[2])
local n = wanted
local state = {}

for i = 1, #KEYS do
  local base = 2 + (i - 1) * 4
  local limit = tonumber(ARGV[base + 2])
  local free
  if ARGV[base + 1] == 's' then
    redis.call('ZREMRANGEBYSCORE', KEYS[i], '-inf', now - tonumber(ARGV[base + 3]))
    state[i] = redis.call('ZCARD', KEYS[i])
    free = limit - state[i]
  else
    local rate = limit / tonumber(ARGV[base + 3])  -- tokens per ms
    state[i] = bucket_tokens(KEYS[i], tonumber(ARGV[base + 4]), rate, now)
    free = math.floor(state[i])
  end
  if free < n then n = math.max(0, free) end
end

local out = {n}
for i = 1, #KEYS do
  local base = 2 + (i - 1) * 4
  local limit = tonumber(ARGV[base + 2])
  local window = tonumber(ARGV[base + 3])
  local wait = 0
  if ARGV[base + 1] == 's' then
    if n > 0 then
      local entries = {}
      for j = 1, n do
        entries[#entries + 1] = now
        entries[#entries + 1] = token .. ':' .. i .. ':' .. j
      end
      redis.call('ZADD', KEYS[i], unpack(entries))
      redis.call('PEXPIRE', KEYS[i], math.ceil(window) + 1000)
    end
    local count = state[i] + n
    if count >= limit then
      -- After a limit was lowered there may be more than `limit` entries: wait until enough
      -- of the oldest have left that one slot is free.
      local entry = redis.call('ZRANGE', KEYS[i], count - limit, count - limit, 'WITHSCORES')
      wait = tonumber(entry[2]) + window - now
    end
  else
    local capacity = tonumber(ARGV[base + 4])
    local rate = limit / window
    local tokens = state[i] - n
    if n > 0 then
      redis.call('HSET', KEYS[i], 'tokens', tostring(tokens), 'ts', tostring(now))
      -- Gone once it would have refilled completely: an absent bucket is a full one.
      redis.call('PEXPIRE', KEYS[i], math.ceil(capacity * window / limit) + 1000)
    end
    if tokens < 1 then
      wait = (1 - tokens) / rate
    end
  end
  if wait > 0 then
    out[#out + 1] = math.max(1, math.ceil(wait))
  else
    out[#out + 1] = 0
  end
end
return out
"""
)

# KEYS: one rate-limit key per limit; ARGV four values per limit, as RATE_LIMIT takes them
# (without its leading token). Returns three integers per limit: the used count (sliding
# window) or whole tokens available (token bucket), ms until one more would be admitted, and
# ms until the limit is back to full. Read-only, so `notifierd ratelimit status` never takes
# quota: expired entries are skipped rather than removed, an absent bucket reads full.
RATE_LIMIT_PEEK = (
    _BUCKET_TOKENS
    + """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + tonumber(t[2]) / 1000
local out = {}

local function ms(wait)
  if wait <= 0 then return 0 end
  return math.max(1, math.ceil(wait))
end

for i = 1, #KEYS do
  local base = (i - 1) * 4
  local algorithm = ARGV[base + 1]
  local limit = tonumber(ARGV[base + 2])
  local window = tonumber(ARGV[base + 3])
  local value, next_slot, reset = 0, 0, 0
  if algorithm == 's' then
    -- Entries at or before now - window are the ones RATE_LIMIT would remove; they hold the
    -- lowest ranks, so the live ones start at rank `expired`.
    local expired = redis.call('ZCOUNT', KEYS[i], '-inf', now - window)
    value = redis.call('ZCARD', KEYS[i]) - expired
    if value >= limit then
      -- As in RATE_LIMIT: after a limit was lowered, wait for enough of the oldest to leave.
      local rank = expired + value - limit
      local entry = redis.call('ZRANGE', KEYS[i], rank, rank, 'WITHSCORES')
      next_slot = tonumber(entry[2]) + window - now
    end
    if value > 0 then
      local newest = redis.call('ZRANGE', KEYS[i], -1, -1, 'WITHSCORES')
      reset = tonumber(newest[2]) + window - now
    end
  else
    local capacity = tonumber(ARGV[base + 4])
    local rate = limit / window  -- tokens per ms
    local tokens = bucket_tokens(KEYS[i], capacity, rate, now)
    value = math.floor(tokens)
    next_slot = (1 - tokens) / rate
    reset = (capacity - tokens) / rate
  end
  out[#out + 1] = value
  out[#out + 1] = ms(next_slot)
  out[#out + 1] = ms(reset)
end
return out
"""
)


@dataclass(frozen=True, slots=True)
class Scripts:
    """The Lua scripts registered on one client (EVALSHA, loaded again if the server forgot)."""

    fetch_batch: AsyncScript
    ack: AsyncScript
    release: AsyncScript
    reject: AsyncScript
    recover: AsyncScript
    deregister: AsyncScript
    rate_limit: AsyncScript
    rate_limit_peek: AsyncScript

    @classmethod
    def register(cls, redis: Redis) -> Scripts:
        return cls(
            fetch_batch=redis.register_script(FETCH_BATCH),
            ack=redis.register_script(ACK),
            release=redis.register_script(RELEASE),
            reject=redis.register_script(REJECT),
            recover=redis.register_script(RECOVER),
            deregister=redis.register_script(DEREGISTER),
            rate_limit=redis.register_script(RATE_LIMIT),
            rate_limit_peek=redis.register_script(RATE_LIMIT_PEEK),
        )
