// Thread names, so `top -H`, `perf` and a debugger tell the daemon's HTTP threads from its
// job, image and store threads.
#pragma once

#include <boost/asio/thread_pool.hpp>

#include "imagepipe/asio.hpp"

namespace imagepipe {

// Names the calling thread (Linux keeps the first 15 characters). Best effort.
void name_this_thread(const char* name);

// Runs `setup` once on each of the `threads` threads of `pool`, and returns when all have.
void on_each_pool_thread(asio::thread_pool& pool, int threads, void (*setup)());

}  // namespace imagepipe
