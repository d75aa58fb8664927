#include "jobs/redis/redis_scripts.hpp"

namespace imagepipe::jobs::redis::scripts {

namespace {

// Moves a job between the status indexes and sets its status.
#define RESTATUS                                                                     \
  "local function restatus(P, jk, to)\n"                                             \
  "  local h = redis.call('HMGET', jk, 'pipeline', 'status', 'member', 'created')\n" \
  "  local pl, from, member, created = h[1], h[2], h[3], h[4]\n"                     \
  "  if from == to then return from end\n"                                           \
  "  redis.call('ZREM', P..'ix:s:'..from, member)\n"                                 \
  "  redis.call('ZREM', P..'ix:ps:'..pl..':'..from, member)\n"                       \
  "  redis.call('ZADD', P..'ix:s:'..to, created, member)\n"                          \
  "  redis.call('ZADD', P..'ix:ps:'..pl..':'..to, created, member)\n"                \
  "  redis.call('HSET', jk, 'status', to)\n"                                         \
  "  return from\n"                                                                  \
  "end\n"

// A finished job that asked for a callback gets one, once (a job finished twice does not
// call twice).
#define QUEUE_CALLBACK                                                                     \
  "local function queue_callback(P, jk, id, now)\n"                                        \
  "  if redis.call('HGET', jk, 'notify') == '1' and redis.call('EXISTS', jk..':cb') == 0 " \
  "then\n"                                                                                 \
  "    redis.call('HSET', jk..':cb', 'status', 'pending', 'attempts', 0, 'created', now, " \
  "'next', now)\n"                                                                         \
  "    redis.call('ZADD', P..'cb:due', now, id)\n"                                         \
  "  end\n"                                                                                \
  "end\n"

// The stream entry is done with: acknowledged and removed, so the stream stays short.
#define DROP_ENTRY                            \
  "local function drop_entry(sk, g, entry)\n" \
  "  if entry then\n"                         \
  "    redis.call('XACK', sk, g, entry)\n"    \
  "    redis.call('XDEL', sk, entry)\n"       \
  "  end\n"                                   \
  "end\n"

}  // namespace

// Queues one job: 1 (queued), 0 (a job with this id exists), -1 (the pipeline's queue is
// full). `inputs` is {field, bytes, ...}.
#define ADD_JOB                                                                              \
  "local function add_job(P, id, pl, request, notify, rid, now, limit, fields, inputs)\n"    \
  "  local jk = P..'job:'..id\n"                                                             \
  "  if redis.call('EXISTS', jk) == 1 then return 0 end\n"                                   \
  "  if limit > 0 and redis.call('ZCARD', P..'ix:ps:'..pl..':queued') >= limit then\n"       \
  "    return -1\n"                                                                          \
  "  end\n"                                                                                  \
  "  local seq = redis.call('INCR', P..'seq')\n"                                             \
  "  local member = string.format('%016d', seq)..':'..id\n"                                  \
  "  for i = 1, #inputs, 2 do redis.call('HSET', jk..':in', inputs[i], inputs[i + 1]) end\n" \
  "  local entry = redis.call('XADD', P..'q:'..pl, '*', 'id', id)\n"                         \
  "  redis.call('HSET', jk, 'pipeline', pl, 'status', 'queued', 'request', request,\n"       \
  "             'fields', fields, 'notify', notify, 'rid', rid, 'created', now,\n"           \
  "             'seq', seq, 'member', member, 'runs', 0, 'entry', entry)\n"                  \
  "  for _, ix in ipairs({'ix:all', 'ix:p:'..pl, 'ix:s:queued', 'ix:ps:'..pl..':queued'}) "  \
  "do\n"                                                                                     \
  "    redis.call('ZADD', P..ix, now, member)\n"                                             \
  "  end\n"                                                                                  \
  "  redis.call('SADD', P..'pipelines', pl)\n"                                               \
  "  return 1\n"                                                                             \
  "end\n"

// ARGV: P now queued_limit, then per job: id pipeline request notify rid fields n_inputs
// [field bytes]*n_inputs. Returns one add_job result per job, in order.
//
// The whole batch is one command on purpose: with appendfsync always, Redis fsyncs after
// every event-loop turn that executed a write, and it reads one large argument per client
// per turn, so a pipeline of N separate 100 KB adds costs N fsyncs where one command
// costs one.
const char* const kAddBatch = ADD_JOB R"lua(
local P, now, limit = ARGV[1], ARGV[2], tonumber(ARGV[3])
local out, i = {}, 4
while i <= #ARGV do
  local n = tonumber(ARGV[i + 6])
  local inputs = {}
  for k = 1, 2 * n do inputs[k] = ARGV[i + 6 + k] end
  out[#out + 1] = add_job(P, ARGV[i], ARGV[i + 1], ARGV[i + 2], ARGV[i + 3], ARGV[i + 4], now,
                          limit, ARGV[i + 5], inputs)
  i = i + 7 + 2 * n
end
return out
)lua";

// ARGV: P id pipeline request notify rid now fields schedule_key schedule_due. A scheduled
// job: queued unless a job with its id exists (another node fired this due time), and the
// schedule's last due time moves forward. Returns add_job's result.
const char* const kAddScheduled = ADD_JOB R"lua(
local P, id, pl, now = ARGV[1], ARGV[2], ARGV[3], ARGV[7]
local added = add_job(P, id, pl, ARGV[4], ARGV[5], ARGV[6], now, 0, ARGV[8], {})
local sk = P..'sched:'..ARGV[9]
local last = tonumber(redis.call('HGET', sk, 'last_due') or '-1')
if tonumber(ARGV[10]) > last then
  redis.call('HSET', sk, 'pipeline', pl, 'last_due', ARGV[10], 'last_job', id)
end
return added
)lua";

// ARGV: P stream group entry id node now max_deliveries dead_letter_result.
// Returns {0} (nothing to run: the job ended, was removed or queued again under another
// entry), {2, runs} (dead-lettered: failed, its callback queued) or
// {1, request, runs, created, {field, bytes, ...}} (now running on `node`).
const char* const kClaim = RESTATUS QUEUE_CALLBACK DROP_ENTRY R"lua(
local P, sk, g, entry, id, now = ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5], ARGV[7]
local jk = P..'job:'..id
local st = redis.call('HGET', jk, 'status')
if (st ~= 'queued' and st ~= 'running') or redis.call('HGET', jk, 'entry') ~= entry then
  drop_entry(sk, g, entry)
  return {0}
end
local runs = tonumber(redis.call('HGET', jk, 'runs'))
if runs >= tonumber(ARGV[8]) then
  restatus(P, jk, 'failed')
  redis.call('HSET', jk, 'finished', now, 'result', ARGV[9])
  redis.call('DEL', jk..':in')
  drop_entry(sk, g, entry)
  redis.call('ZADD', P..'ix:finished', now, id)
  queue_callback(P, jk, id, now)
  return {2, runs}
end
restatus(P, jk, 'running')
redis.call('HSET', jk, 'runs', runs + 1, 'started', now, 'node', ARGV[6])
redis.call('DEL', jk..':items')  -- a job run again starts with no items
return {1, redis.call('HGET', jk, 'request'), runs + 1, redis.call('HGET', jk, 'created'),
        redis.call('HGETALL', jk..':in')}
)lua";

// ARGV: P id status result now group [output_key bytes]... Returns 0 when the job is gone.
const char* const kFinish = RESTATUS QUEUE_CALLBACK DROP_ENTRY R"lua(
local P, id, status, now, g = ARGV[1], ARGV[2], ARGV[3], ARGV[5], ARGV[6]
local jk = P..'job:'..id
local h = redis.call('HMGET', jk, 'pipeline', 'entry')
if not h[1] then return 0 end
restatus(P, jk, status)
redis.call('HSET', jk, 'finished', now, 'result', ARGV[4])
redis.call('HDEL', jk, 'entry')
redis.call('DEL', jk..':out', jk..':in')
for i = 7, #ARGV, 2 do redis.call('HSET', jk..':out', ARGV[i], ARGV[i + 1]) end
drop_entry(P..'q:'..h[1], g, h[2])
redis.call('ZADD', P..'ix:finished', now, id)
if status ~= 'cancelled' then queue_callback(P, jk, id, now) end
return 1
)lua";

// ARGV: P id now group. Returns the status before ('' when there is no such job); only a
// queued job changes (to cancelled).
const char* const kCancel = RESTATUS DROP_ENTRY R"lua(
local P, id, now, g = ARGV[1], ARGV[2], ARGV[3], ARGV[4]
local jk = P..'job:'..id
local h = redis.call('HMGET', jk, 'status', 'pipeline', 'entry')
if not h[1] then return '' end
if h[1] ~= 'queued' then return h[1] end
restatus(P, jk, 'cancelled')
redis.call('HSET', jk, 'finished', now)
redis.call('HDEL', jk, 'entry')
redis.call('DEL', jk..':in')
drop_entry(P..'q:'..h[2], g, h[3])
redis.call('ZADD', P..'ix:finished', now, id)
return 'queued'
)lua";

// ARGV: P id now. Returns queued | not_found | unfinished | cancelled | no_callback.
const char* const kRetryCallback = R"lua(
local P, id, now = ARGV[1], ARGV[2], ARGV[3]
local jk = P..'job:'..id
local st = redis.call('HGET', jk, 'status')
if not st then return 'not_found' end
if st == 'queued' or st == 'running' then return 'unfinished' end
if st == 'cancelled' then return 'cancelled' end
if redis.call('EXISTS', jk..':cb') == 0 then return 'no_callback' end
redis.call('HSET', jk..':cb', 'status', 'pending', 'next', now, 'created', now)
redis.call('ZADD', P..'cb:due', now, id)
return 'queued'
)lua";

// ARGV: P now limit lease_ms. Takes the callbacks due at `now`, oldest first, and leases
// them: their due time becomes the lease's end, so a node that dies while delivering
// leaves them due again for any other. Returns
// {{id, pipeline, request, result, attempts, created, {output_key, bytes, ...}}, ...}.
const char* const kLeaseDue = R"lua(
local P, now, limit, lease = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])
local ids = redis.call('ZRANGEBYSCORE', P..'cb:due', '-inf', now, 'LIMIT', 0, limit)
local out = {}
for _, id in ipairs(ids) do
  local jk = P..'job:'..id
  local h = redis.call('HMGET', jk, 'pipeline', 'request', 'result')
  local c = redis.call('HMGET', jk..':cb', 'attempts', 'created', 'status')
  if h[1] and h[3] and c[3] == 'pending' then
    redis.call('ZADD', P..'cb:due', now + lease, id)
    out[#out + 1] = {id, h[1], h[2], h[3], c[1], c[2], redis.call('HGETALL', jk..':out')}
  else
    redis.call('ZREM', P..'cb:due', id)
  end
end
return out
)lua";

// ARGV: P id attempt_json status attempts next_ms.
const char* const kRecordAttempt = R"lua(
local P, id, status = ARGV[1], ARGV[2], ARGV[4]
local jk = P..'job:'..id
if redis.call('EXISTS', jk..':cb') == 0 then return 0 end
redis.call('RPUSH', jk..':att', ARGV[3])
redis.call('HSET', jk..':cb', 'status', status, 'attempts', ARGV[5], 'next', ARGV[6])
if status == 'pending' then
  redis.call('ZADD', P..'cb:due', ARGV[6], id)
else
  redis.call('ZREM', P..'cb:due', id)
end
return 1
)lua";

// ARGV: P stream group entry. A node gives back a stream entry it holds (claimed but not
// started, or running when it stopped): the job is queued again under a new entry, for
// any node. Returns 1 when a job was queued again.
const char* const kHandBack = RESTATUS R"lua(
local P, sk, g, entry = ARGV[1], ARGV[2], ARGV[3], ARGV[4]
local e = redis.call('XRANGE', sk, entry, entry)
redis.call('XACK', sk, g, entry)
if #e == 0 then return 0 end
redis.call('XDEL', sk, entry)
local id = e[1][2][2]
local jk = P..'job:'..id
local h = redis.call('HMGET', jk, 'status', 'entry')
if (h[1] == 'running' or h[1] == 'queued') and h[2] == entry then
  restatus(P, jk, 'queued')
  redis.call('HSET', jk, 'entry', redis.call('XADD', sk, '*', 'id', id))
  return 1
end
return 0
)lua";

// ARGV: P id node [index item_json]... Stores finished items of a job running on `node`,
// replacing any under the same index. Returns 0 and stores nothing when the job no longer
// runs there (another node took it after this one went silent): its items are the other
// run's now.
const char* const kPutItems = R"lua(
local P, id, node = ARGV[1], ARGV[2], ARGV[3]
local jk = P..'job:'..id
local h = redis.call('HMGET', jk, 'status', 'node')
if h[1] ~= 'running' or h[2] ~= node then return 0 end
for i = 4, #ARGV, 2 do
  redis.call('ZREMRANGEBYSCORE', jk..':items', ARGV[i], ARGV[i])
  redis.call('ZADD', jk..':items', ARGV[i], ARGV[i + 1])
end
return 1
)lua";

// ARGV: P cutoff limit. Removes jobs finished before `cutoff` whose callback is settled.
const char* const kRemoveFinished = R"lua(
local P, cutoff, limit = ARGV[1], ARGV[2], tonumber(ARGV[3])
local ids = redis.call('ZRANGEBYSCORE', P..'ix:finished', '-inf', '('..cutoff, 'LIMIT', 0, limit)
local n = 0
for _, id in ipairs(ids) do
  if not redis.call('ZSCORE', P..'cb:due', id) then
    local jk = P..'job:'..id
    local h = redis.call('HMGET', jk, 'pipeline', 'status', 'member')
    if h[1] then
      for _, ix in ipairs({'ix:all', 'ix:p:'..h[1], 'ix:s:'..h[2], 'ix:ps:'..h[1]..':'..h[2]}) do
        redis.call('ZREM', P..ix, h[3])
      end
    end
    redis.call('DEL', jk, jk..':in', jk..':out', jk..':items', jk..':cb', jk..':att')
    redis.call('ZREM', P..'ix:finished', id)
    n = n + 1
  end
end
return n
)lua";

// ARGV: P key pipeline now. Returns {last_due, last_job}; a new schedule counts from now.
const char* const kOpenSchedule = R"lua(
local sk = ARGV[1]..'sched:'..ARGV[2]
if redis.call('EXISTS', sk) == 0 then
  redis.call('HSET', sk, 'pipeline', ARGV[3], 'last_due', ARGV[4], 'last_job', '')
end
return redis.call('HMGET', sk, 'last_due', 'last_job')
)lua";

}  // namespace imagepipe::jobs::redis::scripts
