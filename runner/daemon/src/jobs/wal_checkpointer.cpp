#include "jobs/wal_checkpointer.hpp"

#include <boost/asio/post.hpp>

namespace imagepipe::jobs {

namespace {
// A background pass starts once the WAL holds this many pages (SQLite's own default).
constexpr int kBackgroundPages = 1000;
// The WAL only starts over once a checkpoint has copied every frame, which a background
// pass racing a busy writer never does. Past this size the writer finishes the job
// itself, after waiting for a pass under way (else it would find the checkpoint lock
// taken, and on a loaded machine a slow pass let the WAL grow to 58 MB in a test): little
// is left to copy by then, and the WAL stays bounded.
constexpr int kWriterPages = 4000;

void passive_checkpoint(sqlite3* db) {
  int wal_pages = 0, copied = 0;
  (void)sqlite3_wal_checkpoint_v2(db, nullptr, SQLITE_CHECKPOINT_PASSIVE, &wal_pages, &copied);
}
}  // namespace

WalCheckpointer::WalCheckpointer(Database& writer, const std::filesystem::path& file,
                                 const char* synchronous_pragma, boost::asio::thread_pool& thread)
    : writer_(writer), own_(file), thread_(thread) {
  own_.exec(synchronous_pragma);  // a checkpoint syncs as its connection says
  sqlite3_wal_hook(writer_.handle(), &WalCheckpointer::after_commit, this);
}

WalCheckpointer::~WalCheckpointer() { sqlite3_wal_hook(writer_.handle(), nullptr, nullptr); }

// Called by SQLite on the writer's thread after each commit, with the WAL's size.
int WalCheckpointer::after_commit(void* self, sqlite3* db, const char*, int pages) {
  auto* checkpointer = static_cast<WalCheckpointer*>(self);
  if (pages >= kWriterPages) {
    std::lock_guard one_pass_at_a_time(checkpointer->pass_mu_);
    passive_checkpoint(db);
  } else if (pages >= kBackgroundPages && !checkpointer->queued_.exchange(true))
    boost::asio::post(checkpointer->thread_, [checkpointer] { checkpointer->checkpoint(); });
  return SQLITE_OK;
}

// PASSIVE: copies what it can without waiting for the writer, which carries on appending.
void WalCheckpointer::checkpoint() {
  queued_ = false;
  std::lock_guard one_pass_at_a_time(pass_mu_);
  passive_checkpoint(own_.handle());
}

}  // namespace imagepipe::jobs
