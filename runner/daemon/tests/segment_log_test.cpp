#include "jobs/segment_log.hpp"

#include <fstream>
#include <random>

#include <gtest/gtest.h>

#include "imagepipe/error.hpp"

namespace imagepipe::testing {
namespace {

using jobs::BlobRef;
using jobs::SegmentLog;
namespace fs = std::filesystem;

class SegmentLogTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::mt19937_64 rng{std::random_device{}()};
    dir_ = fs::temp_directory_path() / ("imagepipe-segments-" + std::to_string(rng()));
  }
  void TearDown() override {
    std::error_code ignored;
    fs::remove_all(dir_, ignored);
  }
  std::size_t files() const {
    std::size_t n = 0;
    for (const auto& entry : fs::directory_iterator(dir_)) n += entry.path().extension() == ".seg";
    return n;
  }
  fs::path dir_;
};

TEST_F(SegmentLogTest, AppendsShareASegmentUntilItIsFullAndReadBackExactly) {
  SegmentLog log(dir_, false, 10);
  const auto a = log.append({"abcd", "ef"});  // 6 bytes: segment 1
  const auto b = log.append({"ghij"});        // 10: still fits
  const auto c = log.append({"k"});           // 11 would not: segment 2
  ASSERT_EQ(a.size(), 2u);
  EXPECT_EQ(a[0].segment, 1u);
  EXPECT_EQ(a[1].offset, 4u);
  EXPECT_EQ(b[0].segment, 1u);
  EXPECT_EQ(b[0].offset, 6u);
  EXPECT_EQ(c[0].segment, 2u);
  EXPECT_EQ(c[0].offset, 0u);
  EXPECT_EQ(log.read(a[0]), "abcd");
  EXPECT_EQ(log.read(a[1]), "ef");
  EXPECT_EQ(log.read(b[0]), "ghij");
  EXPECT_EQ(log.read(c[0]), "k");
  EXPECT_EQ(fs::file_size(log.file(1)), 10u);
}

TEST_F(SegmentLogTest, ASegmentIsRemovedOnceReleasedAndNoLongerWritten) {
  SegmentLog log(dir_, false, 4);
  const auto first = log.append({"1234"});  // held once by the append
  log.release(first[0].segment);            // still the segment being written: kept
  EXPECT_TRUE(fs::exists(log.file(1)));
  const auto second = log.append({"5678"});  // moves on to segment 2: segment 1 goes
  EXPECT_EQ(second[0].segment, 2u);
  EXPECT_FALSE(fs::exists(log.file(1)));
  log.hold(2, 2);  // two jobs now refer to it besides the append
  log.release(2);
  log.release(2, 2);
  EXPECT_TRUE(fs::exists(log.file(2)));  // still current
  log.append({"9"});
  EXPECT_FALSE(fs::exists(log.file(2)));
  EXPECT_EQ(files(), 1u);
}

TEST_F(SegmentLogTest, ANewLogNeverReusesANumberOnDiskOrHeldByAStoredJob) {
  { SegmentLog(dir_, false, 100).append({"old"}); }
  SegmentLog log(dir_, false, 100);
  log.hold(6);  // a stored job refers to segment 6, whose file is gone
  EXPECT_EQ(log.append({"new"})[0].segment, 7u);
  log.remove_unheld();  // segment 1: nobody holds it
  EXPECT_FALSE(fs::exists(log.file(1)));
  EXPECT_TRUE(fs::exists(log.file(7)));
}

TEST_F(SegmentLogTest, MissingBytesAreNamed) {
  SegmentLog log(dir_, false, 100);
  const auto ref = log.append({"0123456789"})[0];
  fs::resize_file(log.file(ref.segment), 4);
  try {
    log.read(ref);
    FAIL() << "expected a short read to fail";
  } catch (const Error& e) {
    EXPECT_EQ(std::string(e.what()), "job store: " + log.file(1).string() + " ends before byte 10");
    EXPECT_EQ(e.cls(), ErrorClass::not_found);
  }
  try {
    log.read(BlobRef{9, 0, 1});
    FAIL() << "expected a missing segment to fail";
  } catch (const Error& e) {
    EXPECT_EQ(std::string(e.what()), "job store: missing file " + log.file(9).string());
  }
}

}  // namespace
}  // namespace imagepipe::testing
