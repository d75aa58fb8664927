// The engine's ItemSink over a job store: a running job's finished items, written in
// batches, so a batch of 100,000 images holds at most a few batches of items in memory and
// GET /jobs/{id}/items shows them while the job runs.
#pragma once

#include <string>
#include <vector>

#include "jobs/jobs.hpp"

namespace imagepipe {

class StoreItemSink final : public ItemSink {
 public:
  // About 250 KB of rows for a transform's items: one commit per batch, not per item.
  static constexpr std::size_t kBatch = 256;

  StoreItemSink(ItemStore& store, std::string job_id, std::size_t batch = kBatch)
      : store_(store), job_id_(std::move(job_id)), batch_(batch) {}

  Task<void> add(const ItemResult& item) override;
  Task<void> flush() override;

 private:
  Task<void> write();

  ItemStore& store_;
  std::string job_id_;
  std::size_t batch_;
  std::vector<ItemResult> buffer_;
};

}  // namespace imagepipe
