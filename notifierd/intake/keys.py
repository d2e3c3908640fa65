"""Every Redis key name and Lua script notifierd uses, in one place."""

from __future__ import annotations

from dataclasses import dataclass

from redis.asyncio import Redis
from redis.commands.core import AsyncScript

DEFAULT_PREFIX = "notifierd"


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
        return self.queue_name or f"{self.prefix}:requests"

    @property
    def consumers(self) -> str:
        """A set of consumer ids that may hold requests in a processing list."""
        return f"{self.prefix}:consumers"

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


# KEYS[1] queue, KEYS[2] processing, KEYS[3] consumers set, KEYS[4] heartbeat;
# ARGV[1] max items, ARGV[2] consumer id, ARGV[3] heartbeat TTL ms, ARGV[4] heartbeat value.
# Returns the moved items, oldest first. LMOVE one at a time keeps each item's identity and
# order, and the script makes the whole batch atomic (no other consumer sees half of it).
# Taking also registers and beats: a consumer that recover() wrote off during a long pause
# must not hold requests while absent from the set (they would never be recovered).
FETCH_BATCH = """
redis.call('SADD', KEYS[3], ARGV[2])
redis.call('SET', KEYS[4], ARGV[4], 'PX', ARGV[3])
local moved = {}
local n = tonumber(ARGV[1])
for i = 1, n do
  local item = redis.call('LMOVE', KEYS[1], KEYS[2], 'RIGHT', 'LEFT')
  if not item then break end
  moved[#moved + 1] = item
end
return moved
"""

# KEYS[1] processing, KEYS[2] queue; ARGV the items to give back, oldest first.
# Only an item still in the processing list goes back: one that another replica already
# recovered must not be queued twice. Pushed newest first, so the oldest is taken next.
RELEASE = """
local released = 0
for i = #ARGV, 1, -1 do
  if redis.call('LREM', KEYS[1], 1, ARGV[i]) == 1 then
    redis.call('RPUSH', KEYS[2], ARGV[i])
    released = released + 1
  end
end
return released
"""

# KEYS[1] processing; ARGV the items whose outcome is durable. One call for a whole batch.
# Returns how many were still held (one another replica recovered meanwhile is not).
ACK = """
local removed = 0
for i = 1, #ARGV do
  removed = removed + redis.call('LREM', KEYS[1], 1, ARGV[i])
end
return removed
"""

# KEYS[1] consumers set, KEYS[2] heartbeat, KEYS[3] processing, KEYS[4] queue; ARGV[1] id.
# Returns -1 when the consumer is alive, else how many items went back onto the queue.
# Atomic, so two replicas recovering the same dead consumer move each item exactly once.
RECOVER = """
if redis.call('EXISTS', KEYS[2]) == 1 then
  return -1
end
local moved = 0
while true do
  -- From the left (newest) onto the consuming end: the oldest ends up taken first.
  local item = redis.call('LMOVE', KEYS[3], KEYS[4], 'LEFT', 'RIGHT')
  if not item then break end
  moved = moved + 1
end
redis.call('SREM', KEYS[1], ARGV[1])
return moved
"""

# KEYS[1] consumers set, KEYS[2] heartbeat, KEYS[3] processing; ARGV[1] id.
# Deregister only an empty consumer; one still holding requests stays for recover().
DEREGISTER = """
if redis.call('LLEN', KEYS[3]) > 0 then
  return 0
end
redis.call('SREM', KEYS[1], ARGV[1])
redis.call('DEL', KEYS[2])
return 1
"""

# KEYS: one rate-limit key per limit. ARGV[1] a unique token for this call, then four values
# per limit: algorithm ('s' sliding window | 't' token bucket), limit, window ms, capacity.
# Returns one wait in ms per limit: all zeros means admitted and every limit consumed; any
# non-zero means nothing was consumed. Check-all-then-consume in one script, so a request
# never holds a slot of limit A while limit B refuses it. Time is the server's, so every
# replica measures windows on the same clock.
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

RATE_LIMIT = (
    _BUCKET_TOKENS
    + """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + tonumber(t[2]) / 1000
local token = ARGV[1]
local waits = {}
local refused = false
local state = {}

for i = 1, #KEYS do
  local base = 1 + (i - 1) * 4
  local algorithm = ARGV[base + 1]
  local limit = tonumber(ARGV[base + 2])
  local window = tonumber(ARGV[base + 3])
  local wait = 0
  if algorithm == 's' then
    redis.call('ZREMRANGEBYSCORE', KEYS[i], '-inf', now - window)
    local count = redis.call('ZCARD', KEYS[i])
    if count >= limit then
      -- After a limit was lowered there may be more than `limit` entries: wait until enough
      -- of the oldest have left that one slot is free.
      local entry = redis.call('ZRANGE', KEYS[i], count - limit, count - limit, 'WITHSCORES')
      wait = tonumber(entry[2]) + window - now
    end
  else
    local capacity = tonumber(ARGV[base + 4])
    local rate = limit / window  -- tokens per ms
    local tokens = bucket_tokens(KEYS[i], capacity, rate, now)
    state[i] = tokens
    if tokens < 1 then
      wait = (1 - tokens) / rate
    end
  end
  if wait > 0 then
    refused = true
    waits[i] = math.max(1, math.ceil(wait))
  else
    waits[i] = 0
  end
end

if refused then
  return waits
end

for i = 1, #KEYS do
  local base = 1 + (i - 1) * 4
  local algorithm = ARGV[base + 1]
  local limit = tonumber(ARGV[base + 2])
  local window = tonumber(ARGV[base + 3])
  if algorithm == 's' then
    redis.call('ZADD', KEYS[i], now, token .. ':' .. i)
    redis.call('PEXPIRE', KEYS[i], math.ceil(window) + 1000)
  else
    local capacity = tonumber(ARGV[base + 4])
    redis.call('HSET', KEYS[i], 'tokens', tostring(state[i] - 1), 'ts', tostring(now))
    -- Gone once it would have refilled completely: an absent bucket is a full one.
    redis.call('PEXPIRE', KEYS[i], math.ceil(capacity * window / limit) + 1000)
  end
end
return waits
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
            recover=redis.register_script(RECOVER),
            deregister=redis.register_script(DEREGISTER),
            rate_limit=redis.register_script(RATE_LIMIT),
            rate_limit_peek=redis.register_script(RATE_LIMIT_PEEK),
        )
