#include "thread_priority.hpp"

#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <latch>

#include <boost/asio/post.hpp>

namespace imagepipe::runner {

void lower_this_thread_priority() {
  // On Linux a thread id names one thread for setpriority (POSIX would say process).
  const auto tid = static_cast<id_t>(::syscall(SYS_gettid));
  (void)::setpriority(PRIO_PROCESS, tid, kJobThreadNice);
}

void lower_pool_priority(boost::asio::thread_pool& pool, int threads) {
  std::latch all_started(threads);
  for (int i = 0; i < threads; ++i)
    boost::asio::post(pool, [&all_started] {
      lower_this_thread_priority();
      // Waiting here keeps this thread from taking another of the tasks.
      all_started.arrive_and_wait();
    });
  all_started.wait();
}

}  // namespace imagepipe::runner
