// SQLite's WAL checkpoints, taken off the committing thread. By default SQLite copies the
// WAL back into the database (and fsyncs both) inside whichever commit takes the WAL past
// 1,000 pages, and that commit's batch of 202s waits for it: tens of milliseconds on the
// odd request. Here a thread of its own does the copying.
#pragma once

#include <atomic>
#include <filesystem>
#include <mutex>

#include <boost/asio/thread_pool.hpp>

#include "jobs/sqlite_db.hpp"

namespace imagepipe::jobs {

class WalCheckpointer {
 public:
  // Becomes `writer`'s WAL hook (which turns SQLite's own checkpoints off) and checkpoints
  // on `thread` through a connection of its own to `file`, with `synchronous_pragma`.
  WalCheckpointer(Database& writer, const std::filesystem::path& file,
                  const char* synchronous_pragma, boost::asio::thread_pool& thread);
  ~WalCheckpointer();
  WalCheckpointer(const WalCheckpointer&) = delete;
  WalCheckpointer& operator=(const WalCheckpointer&) = delete;

 private:
  static int after_commit(void* self, sqlite3* db, const char* name, int pages);
  void checkpoint();

  Database& writer_;
  Database own_;  // used on thread_ only
  boost::asio::thread_pool& thread_;
  std::atomic<bool> queued_{false};
  std::mutex pass_mu_;  // one checkpoint at a time: the writer's waits for the background's
};

}  // namespace imagepipe::jobs
