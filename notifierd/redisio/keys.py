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
        return self.queue_name or self.default_queue

    @property
    def default_queue(self) -> str:
        """The queue when none is named: the anonymous producers' (``notifierd:requests``)."""
        return f"{self.prefix}:requests"

    def producer_queue(self, producer_id: str) -> str:
        """A producer's own queue, ``<queue>:<producer id>`` (``notifierd:requests:ci``).

        Its own list, so a Redis ACL can let the producer push there and nowhere else, and
        the daemon knows whose a request is by the list it took it from.
        """
        return f"{self.queue}:{producer_id}"

    def of_producer(self, producer_id: str) -> Keys:
        """The keys of a producer's queue: its consumers set and order keys are its own."""
        return Keys(self.prefix, self.producer_queue(producer_id))

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
    def owner_prefix(self) -> str:
        """Of the strings naming which consumer owns an order key (see FETCH_BATCH)."""
        return f"{self.prefix}:owner:{self.queue}:"

    @property
    def handoff_prefix(self) -> str:
        """Of the lists ``handoff(consumer_id)``: FETCH_BATCH names another consumer's with it."""
        return f"{self.prefix}:handoff:"

    def handoff(self, consumer_id: str) -> str:
        """Requests other consumers took for an order key this consumer owns, oldest right."""
        return self.handoff_prefix + consumer_id

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

    def slack_request(self, signature: str) -> str:
        """A Slack interactivity request already taken (by any replica), marked by its
        signature until a replay of it would be too old anyway."""
        return f"{self.prefix}:slack:seen:{signature}"

    def worker_claim(self, worker_id: str) -> str:
        """Names the supervisor whose worker slot uses ``worker_id`` (see CLAIM_WORKER_ID)."""
        return f"{self.prefix}:worker:{worker_id}"

    def storm(self, route: str, minute: int) -> str:
        """New alerts a route had in one wall-clock minute (``intake/storm.py``)."""
        return f"{self.prefix}:storm:{route}:{minute}"

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
# processed. One string per key held (Keys.owner_prefix + key) says "<count> <consumer id>":
# how many requests of the key the owner holds, handed-over ones included; it goes at 0.
# Strings, not one hash: a small hash is a list Redis scans, and this runs twice per request.
# A consumer's held keys are exactly the keys of the requests in its processing and handoff
# lists, so recovery finds them there; an owner no longer registered (gone without giving its
# keys back) counts as no owner. order_key() mirrors notifierd.request.Request.order_key; a
# request larger than the intake accepts (1 MiB: it is rejected) is not decoded. FETCH_BATCH
# returns each request's key, and the consumer gives it back with ACK, RELEASE and REJECT ('?'
# when it does not know it), so each request is decoded once.
_ORDER = """
local function order_key(raw)
  if #raw > 1048576 then return nil end
  if string.sub(raw, 1, 3) == '\\239\\187\\191' then raw = string.sub(raw, 4) end  -- a BOM
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

-- The key the consumer says a request has: '' none, '?' not known (decode it).
local function key_of(raw, given)
  if given == '?' then return order_key(raw) end
  if given == '' then return nil end
  return given
end

-- (count, owner) of an owner string, or (0, nil) for none.
local function holder(name)
  local v = redis.call('GET', name)
  if not v then return 0, nil end
  local count, owner = string.match(v, '^(%d+) (.*)$')
  return tonumber(count), owner
end

-- One request of the key whose owner string is `name` is no longer held by `me`.
local function unhold(name, me)
  local count, owner = holder(name)
  if owner ~= me then return end
  if count <= 1 then
    redis.call('DEL', name)
  else
    redis.call('SET', name, (count - 1) .. ' ' .. me)
  end
end

-- `who` gives up the keys of these requests (it died and was recovered, or starts again).
local function drop_holds(owned, items, who)
  for _, item in ipairs(items) do
    local k = order_key(item)
    if k then
      local _, owner = holder(owned .. k)
      if owner == who then redis.call('DEL', owned .. k) end
    end
  end
end
"""

# KEYS[1] queue, KEYS[2] processing, KEYS[3] consumers set, KEYS[4] heartbeat, KEYS[5] handoff;
# ARGV[1] max items, ARGV[2] consumer id, ARGV[3] heartbeat TTL ms, ARGV[4] heartbeat value,
# ARGV[5] the owner-string prefix (Keys.owner_prefix), ARGV[6] the handoff-list prefix
# (Keys.handoff without the id).
# Returns the items taken with their order keys ('' for none), oldest first, as [item, key,
# item, key, ...]: first those handed to us (earlier in queue order than anything still
# queued), then up to the rest from the queue. At most ARGV[1] queued items are looked at, so
# a batch whose items all go to their owners returns fewer (even none).
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
local taken = 0
while taken < n do
  local item = redis.call('LMOVE', KEYS[5], KEYS[2], 'RIGHT', 'LEFT')
  if not item then break end
  moved[#moved + 1] = item
  moved[#moved + 1] = order_key(item) or ''
  taken = taken + 1
end
for _ = 1, n - taken do
  local item = redis.call('RPOP', KEYS[1])
  if not item then break end
  local k = order_key(item)
  local owner = me
  if k then
    local count, held_by = holder(ARGV[5] .. k)
    if held_by and held_by ~= me and redis.call('SISMEMBER', KEYS[3], held_by) == 1 then
      owner = held_by
    elseif held_by ~= me then
      count = 0  -- no owner, or one gone without giving its keys back
    end
    redis.call('SET', ARGV[5] .. k, (count + 1) .. ' ' .. owner)
  end
  if owner == me then
    redis.call('LPUSH', KEYS[2], item)
    moved[#moved + 1] = item
    moved[#moved + 1] = k or ''
  else
    redis.call('LPUSH', ARGV[6] .. owner, item)
  end
end
return moved
"""
)

# KEYS[1] processing, KEYS[2] queue, KEYS[3] handoff; ARGV[1] consumer id, ARGV[2] the
# owner-string prefix, ARGV[3..] the items to give back, oldest first, each followed by its
# order key (see key_of).
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
  local k = order_key(item)
  if k then unhold(ARGV[2] .. k, ARGV[1]) end
  released = released + 1
end
for i = #ARGV - 1, 3, -2 do
  if redis.call('LREM', KEYS[1], 1, ARGV[i]) == 1 then
    redis.call('RPUSH', KEYS[2], ARGV[i])
    local k = key_of(ARGV[i], ARGV[i + 1])
    if k then unhold(ARGV[2] .. k, ARGV[1]) end
    released = released + 1
  end
end
return released
"""
)

# KEYS[1] processing; ARGV[1] consumer id, ARGV[2] the owner-string prefix, ARGV[3..] the
# items whose outcome is durable, each followed by its order key (see key_of). One call for a
# whole batch. Returns how many were still held (one another replica recovered meanwhile is
# not, and its key is no longer ours either).
ACK = (
    _ORDER
    + """
local removed = 0
for i = 3, #ARGV, 2 do
  -- From the tail (-1): the oldest requests finish first, and the oldest are at the tail, so
  -- the scan is short instead of crossing everything taken since.
  if redis.call('LREM', KEYS[1], -1, ARGV[i]) == 1 then
    removed = removed + 1
    local k = key_of(ARGV[i], ARGV[i + 1])
    if k then unhold(ARGV[2] .. k, ARGV[1]) end
  end
end
return removed
"""
)

# KEYS[1] processing; ARGV pairs: an item as taken, and the same request with the id the intake
# gave it (it had none). Each item still held is replaced where it lies, so a request pushed
# without an id keeps that id if it is taken again (recovered after a crash) and what it
# delivered is found, not sent twice. Returns per pair 1, or 0 when the item is no longer held
# (recovered meanwhile by another replica, which now owns it). A pair already stamped (a call
# run again because its reply was lost) answers 1 again: the stamped form carries a new id, so
# finding it means this call's first run replaced it. The rerun finds the taken form only where
# the first run did not replace it: the list holds no other copy of it outside the batch (what a
# lost fetch left behind is adopted, in one batch, before anything else is taken).
STAMP = """
local out = {}
for i = 1, #ARGV, 2 do
  local at = redis.call('LPOS', KEYS[1], ARGV[i])
  if at then
    redis.call('LSET', KEYS[1], at, ARGV[i + 1])
    out[#out + 1] = 1
  elseif redis.call('LPOS', KEYS[1], ARGV[i + 1]) then
    out[#out + 1] = 1
  else
    out[#out + 1] = 0
  end
end
return out
"""

# KEYS[1] rejected list, KEYS[2] processing; ARGV[1] consumer id, ARGV[2] the owner-string
# prefix, ARGV[3] the item, ARGV[4] its rejection record, ARGV[5] how many records to keep,
# ARGV[6] its order key (see key_of).
REJECT = (
    _ORDER
    + """
redis.call('LPUSH', KEYS[1], ARGV[4])
redis.call('LTRIM', KEYS[1], 0, tonumber(ARGV[5]) - 1)
if redis.call('LREM', KEYS[2], 1, ARGV[3]) == 1 then
  local k = key_of(ARGV[3], ARGV[6])
  if k then unhold(ARGV[2] .. k, ARGV[1]) end
end
return 1
"""
)

# KEYS[1] consumers set, KEYS[2] heartbeat, KEYS[3] processing, KEYS[4] queue, KEYS[5] handoff;
# ARGV[1] id, ARGV[2] '1' to skip the heartbeat check (our own id at start), ARGV[3] the
# owner-string prefix. Returns -1 when the consumer is alive, else how many items went back
# onto the queue. Atomic, so two replicas recovering one dead consumer move each item once.
RECOVER = (
    _ORDER
    + """
if ARGV[2] ~= '1' and redis.call('EXISTS', KEYS[2]) == 1 then
  return -1
end
drop_holds(ARGV[3], redis.call('LRANGE', KEYS[5], 0, -1), ARGV[1])
drop_holds(ARGV[3], redis.call('LRANGE', KEYS[3], 0, -1), ARGV[1])
local moved = 0
-- From the left (newest) onto the consuming end, handed-over items first: they are later in
-- queue order than the ones being processed, which so end up taken first, oldest first.
for _, list in ipairs({KEYS[5], KEYS[3]}) do
  while true do
    local item = redis.call('LMOVE', list, KEYS[4], 'LEFT', 'RIGHT')
    if not item then break end
    moved = moved + 1
  end
end
redis.call('SREM', KEYS[1], ARGV[1])
return moved
"""
)

# KEYS[1] consumers set, KEYS[2] heartbeat, KEYS[3] processing, KEYS[4] handoff; ARGV[1] id.
# Deregister only a consumer that holds nothing (so owns no key); one still holding requests
# stays for recover().
DEREGISTER = """
if redis.call('LLEN', KEYS[3]) > 0 or redis.call('LLEN', KEYS[4]) > 0 then
  return 0
end
redis.call('SREM', KEYS[1], ARGV[1])
redis.call('DEL', KEYS[2])
return 1
"""

# KEYS[1] worker claim; ARGV[1] owner (the supervisor's token), ARGV[2] TTL in ms.
# Claim a worker id, or renew the claim: free, or already this owner's. The owner is the
# supervisor, not the worker, so a worker started in place of a killed one gets the same id back
# at once while a second daemon on the same host is refused it.
CLAIM_WORKER_ID = """
local owner = redis.call('GET', KEYS[1])
if owner and owner ~= ARGV[1] then
  return 0
end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return 1
"""

# KEYS[1] worker claim; ARGV[1] owner. Give the id up, unless another owner has it by now.
RELEASE_WORKER_ID = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
"""

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
    stamp: AsyncScript
    recover: AsyncScript
    deregister: AsyncScript
    rate_limit: AsyncScript
    rate_limit_peek: AsyncScript
    claim_worker_id: AsyncScript
    release_worker_id: AsyncScript

    @classmethod
    def register(cls, redis: Redis) -> Scripts:
        return cls(
            fetch_batch=redis.register_script(FETCH_BATCH),
            ack=redis.register_script(ACK),
            release=redis.register_script(RELEASE),
            reject=redis.register_script(REJECT),
            stamp=redis.register_script(STAMP),
            recover=redis.register_script(RECOVER),
            deregister=redis.register_script(DEREGISTER),
            rate_limit=redis.register_script(RATE_LIMIT),
            rate_limit_peek=redis.register_script(RATE_LIMIT_PEEK),
            claim_worker_id=redis.register_script(CLAIM_WORKER_ID),
            release_worker_id=redis.register_script(RELEASE_WORKER_ID),
        )
