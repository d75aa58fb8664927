// The daemon answers requests at normal priority and runs jobs below it: when both want
// the CPU, accepting a job (a few hundred microseconds) goes first and the queue, which is
// durable, absorbs the difference. Without this a burst of 0-latency jobs made the 202
// wait behind image work.
#pragma once

#include <boost/asio/thread_pool.hpp>

namespace imagepipe::runner {

// The nice value given to job threads (Linux: per thread).
inline constexpr int kJobThreadNice = 10;

// Lowers the calling thread's priority to kJobThreadNice. Best effort: a failure (say, a
// sandbox without setpriority) only costs latency, so it is ignored.
void lower_this_thread_priority();

// The same for every thread of `pool`: one task per thread, held until all have started.
void lower_pool_priority(boost::asio::thread_pool& pool, int threads);

}  // namespace imagepipe::runner
