// `imagepipe run`'s ItemSink. The job's result keeps its first JobResult::kKeptItems items;
// the others are spooled to an unlinked temporary file as the lines `run --json` prints,
// so a batch of 100,000 images holds 8 bytes per item (where its line is) rather than the
// items, and the summary still lists every item in index order.
#pragma once

#include <cstdio>
#include <memory>
#include <ostream>
#include <vector>

#include "imagepipe/engine.hpp"

namespace imagepipe::runner {

class ItemSpool final : public ItemSink {
 public:
  ItemSpool();
  Task<void> add(const ItemResult& item) override;
  Task<void> flush() override;

  // job_summary(job).dump(2), with the spooled items after the kept ones.
  void print_summary(std::ostream& out, const JobResult& job) const;

 private:
  struct Close {
    void operator()(std::FILE* f) const { std::fclose(f); }
  };
  std::unique_ptr<std::FILE, Close> file_;
  std::vector<long> offsets_;  // by index - kKeptItems; -1: no line (never finished)
};

}  // namespace imagepipe::runner
