// A batch of thousands of objects through the daemon: every object written, every item a
// row of the job store, GET /jobs/{id} showing the first items with a cursor, and GET
// /jobs/{id}/items paging through all of them, each exactly once. The callback carries the
// counts, as for a batch of four.
#include <set>
#include <thread>

#include "imagepipe/engine.hpp"
#include "serve_fixture.hpp"

namespace imagepipe::testing {
namespace {

namespace fs = std::filesystem;

constexpr int kObjects = 2000;

std::string batch_pipeline(const fs::path& dir) {
  std::ofstream(dir / "many.yaml") << "name: many\n"
                                      "trigger:\n"
                                      "  http: {method: POST, path: /many, mode: async, "
                                      "callback_header: callbackUrl}\n"
                                      "source:\n"
                                      "  from: storage\n"
                                      "  use: local\n"
                                      "  with: {root: \""
                                   << (dir / "in").string()
                                   << "\"}\n"
                                      "  extensions: [\"*\"]\n"
                                      "transforms:\n"
                                      "  - use: resize\n"
                                      "    with: {mode: fit, width: 4, height: 4}\n"
                                      "sink:\n"
                                      "  use: local\n"
                                      "  with: {root: \""
                                   << (dir / "out").string()
                                   << "\"}\n"
                                      "  key: \"${job.id}/${item.stem}.${output.ext}\"\n"
                                      "concurrency: 4\n"
                                      "notifier:\n"
                                      "  use: http-callback\n"
                                      "  with:\n"
                                      "    url: \"${request.headers.callbackUrl}\"\n"
                                      "    body: {status: \"${job.status}\", total_files: "
                                      "\"${metrics.total_files}\", processed: "
                                      "\"${metrics.processed}\", failed: \"${metrics.failed}\", "
                                      "errors: \"${metrics.errors[:20]}\"}\n";
  return (dir / "many.yaml").string();
}

class BatchItemsTest : public ServeTest {
 protected:
  void SetUp() override {
    dir_ = make_temp_dir("imagepipe-many-");
    const auto png = base64_decode(png_base64(8, 8));
    for (int i = 0; i < kObjects; ++i)
      write_file(dir_ / "in" / ("p" + std::to_string(i) + ".png"), png);
    write_file(dir_ / "in" / "zz-broken.png", "not an image");
  }
  void TearDown() override { fs::remove_all(dir_); }

  // The batch accepted by `daemon`; its job and items read from `reader` (the same daemon,
  // or another node on the same Redis).
  void run_batch(DaemonProcess& daemon, DaemonProcess& reader);

  fs::path dir_;
};

TEST_F(BatchItemsTest, ABatchOfThousandsStoresEveryItemAndPagesThemEachOnce) {
  DaemonProcess daemon({.pipelines = {batch_pipeline(dir_)}});
  run_batch(daemon, daemon);
}

// With the Redis backend the items are in Redis: any node pages them.
TEST_F(BatchItemsTest, OnRedisAnotherNodePagesTheItemsOfABatch) {
  if (find_on_path("redis-server").empty())
    GTEST_SKIP() << "redis-server is not installed (scripts/setup.sh installs it)";
  RedisProcess redis;
  const DaemonOptions options{.pipelines = {batch_pipeline(dir_)},
                              .config_yaml = "queue: " + redis.url() + "\n"};
  DaemonProcess a(options), b(options);
  run_batch(a, b);
}

void BatchItemsTest::run_batch(DaemonProcess& daemon, DaemonProcess& reader) {
  const auto& dir = dir_;
  const auto id = accept(daemon, "/many", json::object());
  ASSERT_TRUE(receiver_.wait_for_requests(1, std::chrono::seconds(120))) << daemon.log();
  const auto callback = callbacks().at(0);
  EXPECT_EQ(callback.size(), 5u) << callback;
  EXPECT_EQ(callback["status"], "completed_with_errors");
  EXPECT_EQ(callback["total_files"], kObjects + 1);
  EXPECT_EQ(callback["processed"], kObjects);
  EXPECT_EQ(callback["failed"], 1);
  ASSERT_EQ(callback["errors"].size(), 1u);
  EXPECT_THAT(callback["errors"][0].get<std::string>(), ::testing::StartsWith("zz-broken.png: "));
  std::size_t written = 0;
  for (const auto& e : fs::directory_iterator(dir / "out" / id)) written += e.is_regular_file();
  EXPECT_EQ(written, static_cast<std::size_t>(kObjects));

  // The job shows its first items and where the rest are.
  const auto job = json::parse(reader.get("/jobs/" + id).body);
  EXPECT_EQ(job["metrics"]["total_files"], kObjects + 1);
  ASSERT_EQ(job["items"].size(), 100u);
  EXPECT_EQ(job["items"][0]["index"], 0);
  EXPECT_EQ(job["items_next"], "99");
  EXPECT_LE(job["timeline"].size(), 100u);

  // Every item once, by index, from the cursor on.
  std::set<std::size_t> seen;
  std::size_t rows = 0, completed = 0;
  std::string cursor = job["items_next"];
  for (const auto& item : job["items"]) seen.insert(item["index"].get<std::size_t>());
  int pages = 0;
  while (!cursor.empty() && pages++ < 100) {
    const auto r = reader.get("/jobs/" + id + "/items?limit=500&after=" + cursor);
    ASSERT_EQ(r.status, 200) << r.body;
    const auto page = json::parse(r.body);
    EXPECT_EQ(page["status"], "completed_with_errors");
    for (const auto& item : page["items"]) {
      EXPECT_TRUE(seen.insert(item["index"].get<std::size_t>()).second) << item["index"];
      ++rows;
      completed += item["status"] == "completed";
    }
    cursor = page["next_cursor"].is_null() ? "" : page["next_cursor"].get<std::string>();
  }
  EXPECT_EQ(pages, 4);  // 1,901 items after the first 100: pages of 500
  EXPECT_EQ(rows, static_cast<std::size_t>(kObjects + 1 - 100));
  EXPECT_EQ(completed, rows - 1);
  ASSERT_EQ(seen.size(), static_cast<std::size_t>(kObjects + 1));
  EXPECT_EQ(*seen.rbegin(), static_cast<std::size_t>(kObjects));

  // The first page, and problems named.
  const auto first = json::parse(reader.get("/jobs/" + id + "/items?limit=3").body);
  ASSERT_EQ(first["items"].size(), 3u);
  EXPECT_EQ(first["items"][2]["index"], 2);
  EXPECT_EQ(first["next_cursor"], "2");
  EXPECT_EQ(reader.get("/jobs/" + id + "/items?limit=0").status, 400);
  EXPECT_EQ(reader.get("/jobs/" + id + "/items?after=x").status, 400);
  EXPECT_EQ(reader.get("/jobs/" + new_job_id() + "/items").status, 404);
}

}  // namespace
}  // namespace imagepipe::testing
