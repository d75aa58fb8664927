// The Lua scripts of the Redis job store. Each change of a job is one script, so it is
// atomic (no other node sees half of it) and reaches the AOF as one unit: a job, its
// indexes and its stream entry are written together or not at all.
//
// Keys, under a prefix P (default "imagepipe:"):
//   P job:ID           hash: pipeline status request fields notify rid created seq member
//                            runs entry node started finished result
//   P job:ID:in        hash: request field -> input image bytes (until the job finishes)
//   P job:ID:out       hash: "item:output" -> inline result bytes (for the callback)
//   P job:ID:items     sorted set, score item index, member the item's JSON (no bytes)
//   P job:ID:cb        hash: status attempts created next
//   P job:ID:att       list: callback attempts, JSON
//   P q:PIPELINE       stream, group "imagepipe": entries {id: job id}
//   P ix:all, ix:p:PIPELINE, ix:s:STATUS, ix:ps:PIPELINE:STATUS
//                      sorted sets, score created ms, member "%016d(seq):ID" (GET /jobs)
//   P ix:finished      sorted set, score finished ms (retention)
//   P cb:due           sorted set, score due ms or the end of a delivery's lease
//   P pipelines        set of pipeline names (counts)
//   P sched:KEY        hash: pipeline last_due last_job
//   P seq              counter behind the members' order
#pragma once

namespace imagepipe::jobs::redis::scripts {

// Each takes the prefix as ARGV[1]; the rest is described beside each script.
extern const char* const kAddBatch;
extern const char* const kAddScheduled;
extern const char* const kClaim;
extern const char* const kFinish;
extern const char* const kCancel;
extern const char* const kRetryCallback;
extern const char* const kLeaseDue;
extern const char* const kRecordAttempt;
extern const char* const kHandBack;
extern const char* const kPutItems;
extern const char* const kRemoveFinished;
extern const char* const kOpenSchedule;

}  // namespace imagepipe::jobs::redis::scripts
