/**
 * The Lua scripts of the Redis rate-limit store (`redis-store.ts`): the decision script (one or more
 * decisions, atomically, on the server's clock — the PostgreSQL store's math, integer-exact in a double) and
 * the hold script, each with its SHA-1 for `EVALSHA`.
 *
 * @module
 */
import { createHash } from 'node:crypto';

/**
 * One or more decisions, in order, atomically: KEYS[i] the i-th decision's key. ARGV: the number of distinct
 * rules R, then four per rule (algorithm, limit, windowMs, capacity), then two per decision (its rule's
 * number, 1 to R, and n: the units to consume; 0 reads the status and writes nothing, as a refused decision
 * does). A batch usually has one rule, so a decision sends two arguments instead of six (measured: fewer
 * bulk strings to encode and parse on both sides). Returns, four per decision, { allowed (0/1), remaining,
 * retryAfterMs, resetMs }. One `TIME` for the whole batch.
 */
const SCRIPT = `
local function idiv(a, b)
  local q = math.floor(a / b)
  if q * b > a then q = q - 1 elseif (q + 1) * b <= a then q = q + 1 end
  return q
end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + idiv(tonumber(t[2]), 1000)
local R = tonumber(ARGV[1])
local rules = {}
for r = 1, R do
  local j = 1 + (r - 1) * 4
  rules[r] = { ARGV[j + 1], tonumber(ARGV[j + 2]), tonumber(ARGV[j + 3]), tonumber(ARGV[j + 4]), ARGV[j + 1] .. '/' .. ARGV[j + 3] }
end
local base = 1 + R * 4
local out = {}
for i = 1, #KEYS do
  local rule = rules[tonumber(ARGV[base + (i - 1) * 2 + 1])]
  local alg, L, W, cap, tag = rule[1], rule[2], rule[3], rule[4], rule[5]
  local n = tonumber(ARGV[base + (i - 1) * 2 + 2])
  local old = redis.call('GET', KEYS[i])
  local oa, ob, oc
  local hold = 0
  if old then
    local g, sa, sb, sc, sh = string.match(old, '^(%S+) (%-?%d+) (%-?%d+) (%-?%d+)(.*)$')
    if g == tag then oa = tonumber(sa); ob = tonumber(sb); oc = tonumber(sc) end
    hold = tonumber(sh) or 0
  end
  local held = hold > now
  local fits, ok, remaining, retry, reset, na, nb, nc
  if alg == 'token_bucket' or alg == 'gcra' then
    local C = cap * W
    local d = 0
    if oa ~= nil then
      if alg == 'token_bucket' then
        local elapsed = math.min(math.max(now - ob, 0), idiv(C + L - 1, L))
        d = C - math.min(C, oa + elapsed * L)
      else
        d = math.max(0, oa - math.min(math.max(now - ob, 0), idiv(oa + L - 1, L)) * L)
      end
    end
    fits = d + n * W <= C
    ok = fits and not held
    local da = d
    if ok then da = d + n * W end
    remaining = idiv(C - da, W)
    retry = 0
    if not fits then retry = idiv(d + n * W - C + L - 1, L) end
    reset = idiv(da + L - 1, L)
    local at = now
    if ob ~= nil and ob > now then at = ob end
    if alg == 'token_bucket' then na = C - da else na = da end
    nb = at
    nc = 0
  else
    local e = now - idiv(now, W) * W
    local ws = now - e
    local cur, prev = 0, 0
    if oa == ws then cur = ob; prev = oc or 0 elseif oa == ws - W and alg == 'sliding_window' then prev = ob end
    if alg == 'sliding_window' then
      fits = prev * (W - e) + (cur + n) * W <= L * W
      ok = fits and not held
      local ca = cur
      if ok then ca = cur + n end
      remaining = idiv(math.max(0, L * W - prev * (W - e) - ca * W), W)
      retry = 0
      if not fits then
        if L - cur - n >= 0 and prev > 0 then
          retry = (W - e) - idiv((L - cur - n) * W, prev)
        else
          retry = W - e
          if cur > 0 then retry = retry + math.max(0, W - idiv((L - n) * W, cur)) end
        end
      end
      if ca > 0 then reset = 2 * W - e elseif prev > 0 then reset = W - e else reset = 0 end
      na = ws; nb = ca; nc = prev
    else
      fits = cur + n <= L
      ok = fits and not held
      local ca = cur
      if ok then ca = cur + n end
      remaining = math.max(0, L - ca)
      retry = 0
      if not fits then retry = W - e end
      reset = 0
      if ca > 0 then reset = W - e end
      na = ws; nb = ca; nc = 0
    end
  end
  if held then
    remaining = 0
    retry = math.max(retry, hold - now)
    reset = math.max(reset, hold - now)
  end
  if ok and n > 0 then
    if reset > 0 then
      redis.call('SET', KEYS[i], tag .. ' ' .. string.format('%.0f %.0f %.0f', na, nb, nc), 'PX', string.format('%.0f', reset))
    else
      redis.call('DEL', KEYS[i])
    end
  end
  local allowed = 0
  if ok then allowed = 1 end
  local o = (i - 1) * 4
  out[o + 1] = allowed
  out[o + 2] = remaining
  out[o + 3] = retry
  out[o + 4] = reset
end
return out
`;

/**
 * KEYS[1] the key; ARGV[1] the hold in whole ms. Extends the key's hold to now + ms (never shortens it),
 * keeping its state, and its expiry to at least the hold's end. Returns the hold's end.
 */
const HOLD_SCRIPT = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local until_ = now + tonumber(ARGV[1])
local old = redis.call('GET', KEYS[1])
local state = '- 0 0 0'
if old then
  local g, sa, sb, sc, sh = string.match(old, '^(%S+) (%-?%d+) (%-?%d+) (%-?%d+)(.*)$')
  if g then
    state = g .. ' ' .. sa .. ' ' .. sb .. ' ' .. sc
    local h = tonumber(sh) or 0
    if h > until_ then until_ = h end
  end
end
local ttl = redis.call('PTTL', KEYS[1])
local px = until_ - now
if ttl > px then px = ttl end
redis.call('SET', KEYS[1], state .. ' ' .. string.format('%.0f', until_), 'PX', string.format('%.0f', px))
return string.format('%.0f', until_)
`;

/** A Lua script and its SHA-1 (for EVALSHA). */
export interface Script {
  readonly text: string;
  readonly sha: string;
}

function script(text: string): Script {
  return { text, sha: createHash('sha1').update(text).digest('hex') };
}

/** Decides one or more keys (see SCRIPT). */
export const DECIDE: Script = script(SCRIPT);
/** Holds one key (see HOLD_SCRIPT). */
export const HOLD: Script = script(HOLD_SCRIPT);
