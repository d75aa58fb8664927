// Per-item results in the SQLite job store: written in batches through the engine's sink,
// read back by index a page at a time (each item once), replaced by a later run of the job,
// removed with it; and a result's counts survive the round trip without its items.
#include <gmock/gmock.h>

#include <set>

#include "jobs/store_item_sink.hpp"
#include "store_fixture.hpp"

namespace imagepipe::testing {
namespace {

using namespace std::chrono_literals;

class ItemStoreTest : public StoreTest {
 protected:
  // A job claimed and running, as the dispatcher has it when items start to finish.
  std::string running_job() {
    auto job = make_job();
    job.notify = false;  // no callback to wait for: a finished job can be removed at once
    run(store_->add(job));
    EXPECT_EQ(run(store_->claim_next())->id, job.id);
    return job.id;
  }

  // Every page of the job's items, following the cursor; how many pages it took.
  std::vector<ItemResult> all_items(const std::string& id, int limit, int* pages) {
    std::vector<ItemResult> items;
    std::optional<std::size_t> after;
    for (*pages = 1;; ++*pages) {
      auto page = run(store_->item_store()->item_page(id, after, limit));
      EXPECT_LE(page.items.size(), static_cast<std::size_t>(limit));
      for (auto& item : page.items) items.push_back(std::move(item));
      if (!page.more) return items;
      after = items.back().index;
    }
  }
};

TEST_F(ItemStoreTest, ItemsWrittenThroughTheSinkArePagedByIndexEachOnce) {
  const auto id = running_job();
  ASSERT_TRUE(store_->item_store());
  StoreItemSink sink(*store_->item_store(), id, 100);
  // Finished out of order, as concurrent workers finish them.
  for (std::size_t i = 0; i < 2500; ++i) run(sink.add(item_at(i % 2 ? 2500 - i : i)));
  run(sink.flush());

  int pages = 0;
  const auto items = all_items(id, 300, &pages);
  ASSERT_EQ(items.size(), 2500u);
  EXPECT_EQ(pages, 9);
  std::set<std::size_t> seen;
  for (std::size_t i = 0; i < items.size(); ++i) {
    EXPECT_EQ(items[i].index, i);
    seen.insert(items[i].index);
  }
  EXPECT_EQ(seen.size(), 2500u);
  EXPECT_EQ(items[7].name, "batch/img7.png");
  EXPECT_EQ(items[7].outputs.at(0).key, "out/img7.png");
  EXPECT_FALSE(items[7].outputs.at(0).data);  // bytes are the result's, not the rows'

  const auto from_middle = run(store_->item_store()->item_page(id, 2497, 10));
  ASSERT_EQ(from_middle.items.size(), 2u);
  EXPECT_EQ(from_middle.items[1].index, 2499u);
  EXPECT_FALSE(from_middle.more);
}

TEST_F(ItemStoreTest, AJobRunAgainStartsWithNoItemsAndARemovedJobTakesItsItems) {
  const auto id = running_job();
  run(store_->item_store()->put_items(id, {item_at(0), item_at(1), item_at(2)}));
  reopen();  // the process died while the job ran
  EXPECT_EQ(run(store_->requeue_running()), 1);
  EXPECT_EQ(run(store_->claim_next())->runs, 2);
  EXPECT_TRUE(run(store_->item_store()->item_page(id, std::nullopt, 10)).items.empty());

  run(store_->item_store()->put_items(id, {item_at(0, "failed"), item_at(1)}));
  run(store_->item_store()->put_items(id, {item_at(0)}));  // the same index replaced
  auto page = run(store_->item_store()->item_page(id, std::nullopt, 10));
  ASSERT_EQ(page.items.size(), 2u);
  EXPECT_EQ(page.items[0].status, "completed");

  JobResult result;
  result.id = id;
  result.status = "completed";
  run(store_->finish(result));
  EXPECT_EQ(run(store_->remove_finished_before(std::chrono::system_clock::now() + 1h)), 1);
  EXPECT_TRUE(run(store_->item_store()->item_page(id, std::nullopt, 10)).items.empty());
}

TEST_F(ItemStoreTest, AStoredResultKeepsTheCountsOfItemsItDoesNotHold) {
  const auto id = running_job();
  JobResult result;
  result.id = id;
  result.status = "completed_with_errors";
  for (std::size_t i = 0; i < 5000; ++i) {
    auto item = item_at(i, i % 1000 == 999 ? "failed" : "completed");
    if (item.status == "failed") item.error = "not an image";
    result.tally.add(item);
    if (i < 3) result.items.push_back(item);
  }
  run(store_->finish(result));
  reopen();
  const auto stored = run(store_->get(id))->result;
  ASSERT_TRUE(stored);
  EXPECT_EQ(stored->items.size(), 3u);
  const auto m = stored->metrics();
  EXPECT_EQ(m["total_files"], 5000);
  EXPECT_EQ(m["processed"], 4995);
  EXPECT_EQ(m["failed"], 5);
  EXPECT_EQ(m["outputs"], 5000);
  ASSERT_EQ(m["errors"].size(), 5u);
  EXPECT_EQ(m["errors"][0], "batch/img999.png: not an image");
  EXPECT_EQ(m["errors"][4], "batch/img4999.png: not an image");
}

}  // namespace
}  // namespace imagepipe::testing
