// Where a job's bytes live beside the database: appended to numbered segment files in
// a folder (inputs/ for the images a request carried, results/ for results kept inline
// for a base64 callback), each job row holding the segment, offset and length of its
// bytes. Keeping them out of SQLite keeps the database small and its pages hot.
//
// Why segments and not a file per job: creating and removing a file per image cost most
// of the daemon's accept time in the file system's inode allocation (on ext4 without a
// journal it scans past every inode freed in the last 30 s), while an append to an open
// file is one write. A segment is removed once no job holds it: the store counts, per
// segment, the jobs whose bytes are in it, and rebuilds the counts from the database when
// it opens. Segments left by an earlier process are never appended to, so a write torn by
// a crash is at most unreferenced bytes at the end of a segment.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

namespace imagepipe::jobs {

struct BlobRef {
  std::uint64_t segment = 0;
  std::uint64_t offset = 0;
  std::uint64_t length = 0;
};

// Thread-safe.
class SegmentLog {
 public:
  using Remover = std::function<void(const std::filesystem::path&)>;

  // `sync`: appends reach the disk before append() returns. A segment that has reached
  // `segment_bytes` is closed and the next append starts a new one. `remove` deletes a
  // segment nobody holds (the store hands it to a background thread: unlinking 64 MB
  // takes the file system milliseconds); by default it unlinks at once.
  SegmentLog(std::filesystem::path folder, bool sync, std::uint64_t segment_bytes,
             Remover remove = {});
  ~SegmentLog();
  SegmentLog(const SegmentLog&) = delete;
  SegmentLog& operator=(const SegmentLog&) = delete;

  // Appends every blob to one segment and returns where each went. The caller then holds
  // that segment once, until it release()s it: the bytes cannot vanish between the write
  // and the commit that refers to them. Throws Error(unavailable) naming the file; then
  // nothing was added and nothing is held.
  std::vector<BlobRef> append(const std::vector<std::string_view>& blobs);
  // Error(not_found) when the bytes are not there (a segment removed by hand, say).
  std::string read(const BlobRef& ref) const;

  // References: a job holds the segment its bytes are in until release().
  void hold(std::uint64_t segment, std::int64_t jobs = 1);
  void release(std::uint64_t segment, std::int64_t jobs = 1);
  // After opening, once the holds of the stored jobs are counted: removes the segments
  // none of them holds (earlier processes' finished segments and torn tails).
  void remove_unheld();

  std::filesystem::path file(std::uint64_t segment) const;

 private:
  void open_next_segment();
  void remove_if_unheld(std::uint64_t segment);

  std::filesystem::path folder_;
  bool sync_;
  std::uint64_t segment_bytes_;
  std::uint64_t current_ = 0;  // the segment being appended to
  std::uint64_t size_ = 0;     // its length
  int fd_ = -1;
  Remover remove_;
  std::map<std::uint64_t, std::int64_t> holds_;  // jobs per segment; absent: none
  // Results are appended by the job threads, everything else happens on the store's
  // thread: one lock for the state above.
  std::mutex mu_;
};

}  // namespace imagepipe::jobs
