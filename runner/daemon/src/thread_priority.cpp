#include "thread_priority.hpp"

#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "imagepipe/threads.hpp"

namespace imagepipe::runner {

void lower_this_thread_priority() {
  // On Linux a thread id names one thread for setpriority (POSIX would say process).
  const auto tid = static_cast<id_t>(::syscall(SYS_gettid));
  (void)::setpriority(PRIO_PROCESS, tid, kJobThreadNice);
}

void lower_pool_priority(boost::asio::thread_pool& pool, int threads) {
  on_each_pool_thread(pool, threads, [] { lower_this_thread_priority(); });
}

}  // namespace imagepipe::runner
