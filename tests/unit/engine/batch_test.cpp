// Batches of thousands of objects: listed a page at a time, each item handed to the item
// sink exactly once, counts without the items in memory, errors in index order whatever
// the order items finished in, and max_items refused before any item runs.
#include <gmock/gmock.h>

#include <filesystem>
#include <fstream>
#include <set>

#include "support/engine_harness.hpp"
#include "support/images.hpp"
#include "support/processes.hpp"

namespace imagepipe {
namespace {

using testing::EngineHarness;
namespace fs = std::filesystem;

// Records what the engine hands over, as the daemon's store would.
class CountingSink final : public ItemSink {
 public:
  Task<void> add(const ItemResult& item) override {
    indexes.push_back(item.index);
    statuses[item.status] += 1;
    for (const auto& output : item.outputs) inline_bytes += output.data != nullptr;
    co_return;
  }
  Task<void> flush() override {
    ++flushes;
    co_return;
  }
  std::vector<std::size_t> indexes;
  std::map<std::string, std::size_t> statuses;
  std::size_t inline_bytes = 0;
  int flushes = 0;
};

// A temporary directory, removed with its thousands of files when the test ends.
struct TempDir {
  fs::path path = testing::make_temp_dir("imagepipe-batch-");
  ~TempDir() {
    std::error_code ignored;
    fs::remove_all(path, ignored);
  }
};

// `count` 16x16 PNGs under root/batch/, named so that byte order is index order; every
// `broken_every`th one (when non-zero) is not an image.
void write_objects(const fs::path& root, int count, int broken_every = 0) {
  fs::create_directories(root / "batch");
  const auto png = testing::encode(testing::solid(16, 16, {10, 200, 30}), ImageFormat::png);
  for (int i = 0; i < count; ++i) {
    char name[32];
    std::snprintf(name, sizeof name, "img%05d.png", i);
    const bool broken = broken_every && i % broken_every == broken_every - 1;
    std::ofstream(root / "batch" / name, std::ios::binary)
        << (broken ? std::string("not a png") : png);
  }
}

std::string batch_yaml(const fs::path& in, const fs::path& out, int max_items = 10000) {
  return "name: scale\n"
         "source:\n"
         "  from: storage\n"
         "  use: local\n"
         "  with: {root: \"" +
         in.string() +
         "\"}\n"
         "  prefix: batch/\n"
         "transforms:\n"
         "  - use: resize\n"
         "    with: {mode: fit, width: 8, height: 8}\n"
         "sink:\n"
         "  use: local\n"
         "  with: {root: \"" +
         out.string() +
         "\"}\n"
         "  key: \"out/${item.stem}.${output.ext}\"\n"
         "concurrency: 4\n"
         "limits: {max_items: " +
         std::to_string(max_items) + "}\n";
}

std::size_t files_in(const fs::path& dir) {
  std::size_t n = 0;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(dir, ec))
    if (e.is_regular_file()) ++n;
  return n;
}

TEST(Batch, ThousandsOfObjectsGoThroughTheStepsAndToTheSinkOnceEach) {
  constexpr int kObjects = 3000;  // three listing pages and more than the kept items
  const TempDir temp;
  const auto& dir = temp.path;
  write_objects(dir / "in", kObjects);
  EngineHarness h(false);
  CountingSink sink;
  const auto job = h.run(batch_yaml(dir / "in", dir / "out"), {}, {}, &sink);

  ASSERT_EQ(job.status, "completed") << job.error;
  EXPECT_EQ(files_in(dir / "out" / "out"), static_cast<std::size_t>(kObjects));
  ASSERT_EQ(sink.indexes.size(), static_cast<std::size_t>(kObjects));
  const std::set<std::size_t> unique(sink.indexes.begin(), sink.indexes.end());
  EXPECT_EQ(unique.size(), static_cast<std::size_t>(kObjects));
  EXPECT_EQ(*unique.rbegin(), static_cast<std::size_t>(kObjects - 1));
  EXPECT_EQ(sink.statuses["completed"], static_cast<std::size_t>(kObjects));
  EXPECT_EQ(sink.flushes, 1);
  EXPECT_EQ(sink.inline_bytes, 0u);

  // The result keeps the first items and counts every one.
  ASSERT_EQ(job.items.size(), JobResult::kKeptItems);
  for (std::size_t i = 0; i < job.items.size(); ++i) ASSERT_EQ(job.items[i].index, i);
  EXPECT_EQ(job.items[0].name, "batch/img00000.png");
  EXPECT_EQ(job.items[999].outputs.at(0).width, 8);
  const auto m = job.metrics();
  EXPECT_EQ(m["total_files"], kObjects);
  EXPECT_EQ(m["processed"], kObjects);
  EXPECT_EQ(m["outputs"], kObjects);
  EXPECT_EQ(m["failed"], 0);
}

TEST(Batch, ErrorsAreCountedAndListedInIndexOrder) {
  const TempDir temp;
  const auto& dir = temp.path;
  write_objects(dir / "in", 1200, 100);  // 12 broken, four beyond the kept items
  EngineHarness h(false);
  CountingSink sink;
  const auto job = h.run(batch_yaml(dir / "in", dir / "out"), {}, {}, &sink);

  EXPECT_EQ(job.status, "completed_with_errors");
  EXPECT_EQ(sink.statuses["failed"], 12u);
  EXPECT_EQ(sink.statuses["completed"], 1188u);
  const auto m = job.metrics();
  EXPECT_EQ(m["total_files"], 1200);
  EXPECT_EQ(m["failed"], 12);
  EXPECT_EQ(m["error_count"], 12);
  ASSERT_EQ(m["errors"].size(), 12u);
  for (int i = 0; i < 12; ++i) {
    char name[32];
    std::snprintf(name, sizeof name, "batch/img%05d.png: ", i * 100 + 99);
    EXPECT_EQ(m["errors"][i].get<std::string>().rfind(name, 0), 0u) << m["errors"][i];
  }
  EXPECT_EQ(files_in(dir / "out" / "out"), 1188u);
}

TEST(Batch, MoreObjectsThanMaxItemsIsRefusedBeforeAnyItemRuns) {
  const TempDir temp;
  const auto& dir = temp.path;
  write_objects(dir / "in", 1500);
  EngineHarness h(false);
  CountingSink sink;
  const auto job = h.run(batch_yaml(dir / "in", dir / "out", 1499), {}, {}, &sink);

  EXPECT_EQ(job.status, "failed");
  EXPECT_EQ(job.error, "more than 1499 objects under prefix 'batch/' (limits.max_items)");
  EXPECT_EQ(job.error_class, ErrorClass::invalid_input);
  EXPECT_TRUE(sink.indexes.empty());
  EXPECT_EQ(files_in(dir / "out" / "out"), 0u);
}

TEST(Batch, ACancelledBatchReportsTheItemsItNeverStarted) {
  const TempDir temp;
  const auto& dir = temp.path;
  write_objects(dir / "in", 2500);
  EngineHarness h(false);
  CountingSink sink;
  JobRequest request;
  request.cancelled = [&sink] { return sink.indexes.size() >= 100; };
  const auto job = h.run(batch_yaml(dir / "in", dir / "out"), request, {}, &sink);

  EXPECT_EQ(job.status, "cancelled");
  ASSERT_EQ(sink.indexes.size(), 2500u);
  const std::set<std::size_t> unique(sink.indexes.begin(), sink.indexes.end());
  EXPECT_EQ(unique.size(), 2500u);
  const auto started = sink.statuses["completed"];
  EXPECT_GE(started, 100u);
  EXPECT_LT(started, 110u);  // the items under way when it was asked, at most
  EXPECT_EQ(sink.statuses["cancelled"], 2500u - started);
  EXPECT_EQ(files_in(dir / "out" / "out"), started);
  EXPECT_EQ(job.metrics()["total_files"], 2500);
  EXPECT_EQ(job.items.back().status, "cancelled");
}

}  // namespace
}  // namespace imagepipe
