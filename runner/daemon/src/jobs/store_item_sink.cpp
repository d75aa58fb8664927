#include "jobs/store_item_sink.hpp"

namespace imagepipe {

Task<void> StoreItemSink::add(const ItemResult& item) {
  auto& copy = buffer_.emplace_back(item);
  for (auto& output : copy.outputs) output.data.reset();  // the result keeps those it needs
  // The worker that fills the batch waits for its commit: items finish no faster than the
  // store takes them, so nothing piles up.
  if (buffer_.size() >= batch_) co_await write();
}

Task<void> StoreItemSink::flush() {
  if (!buffer_.empty()) co_await write();
}

Task<void> StoreItemSink::write() {
  // Taken before the wait: other workers fill the next batch meanwhile.
  auto rows = std::move(buffer_);
  buffer_.clear();
  co_await store_.put_items(job_id_, std::move(rows));
}

}  // namespace imagepipe
