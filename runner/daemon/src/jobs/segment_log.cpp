#include "jobs/segment_log.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstdio>
#include <cstring>

#include "imagepipe/error.hpp"

namespace fs = std::filesystem;

namespace imagepipe::jobs {

namespace {

constexpr std::string_view kSuffix = ".seg";

[[noreturn]] void fail(const fs::path& file, const char* what) {
  throw Error(ErrorClass::unavailable, std::string("job store: cannot ") + what + " " +
                                           file.string() + ": " + std::strerror(errno));
}

// "000000000042.seg" -> 42; nullopt for any other name.
std::optional<std::uint64_t> segment_number(const fs::path& file) {
  const std::string name = file.filename().string();
  if (name.size() <= kSuffix.size() || !name.ends_with(kSuffix)) return std::nullopt;
  std::uint64_t n = 0;
  const char* end = name.data() + name.size() - kSuffix.size();
  const auto [ptr, ec] = std::from_chars(name.data(), end, n);
  if (ec != std::errc() || ptr != end) return std::nullopt;
  return n;
}

void sync_folder(const fs::path& folder) {
  const int fd = ::open(folder.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) fail(folder, "open");
  const int rc = ::fsync(fd);
  ::close(fd);
  if (rc != 0) fail(folder, "sync");
}

}  // namespace

SegmentLog::SegmentLog(fs::path folder, bool sync, std::uint64_t segment_bytes, Remover remove)
    : folder_(std::move(folder)),
      sync_(sync),
      segment_bytes_(segment_bytes),
      remove_(remove ? std::move(remove)
                     : [](const fs::path& file) { (void)::unlink(file.c_str()); }) {
  std::error_code ec;
  fs::create_directories(folder_, ec);
  if (ec)
    throw Error(ErrorClass::unavailable,
                "job store: cannot create " + folder_.string() + ": " + ec.message());
  // New bytes go to a segment no earlier process wrote.
  for (const auto& entry : fs::directory_iterator(folder_))
    if (const auto n = segment_number(entry.path())) current_ = std::max(current_, *n);
  ++current_;
}

SegmentLog::~SegmentLog() {
  if (fd_ >= 0) ::close(fd_);
}

fs::path SegmentLog::file(std::uint64_t segment) const {
  char name[32];
  std::snprintf(name, sizeof name, "%012llu.seg", static_cast<unsigned long long>(segment));
  return folder_ / name;
}

void SegmentLog::open_next_segment() {
  if (fd_ >= 0) {
    ::close(fd_);
    fd_ = -1;
    const auto finished = current_++;
    remove_if_unheld(finished);  // every job in it may be done already
  }
  const auto path = file(current_);
  fd_ = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd_ < 0 && errno == ENOENT) {  // the folder went away (an operator cleaning up)
    std::error_code ignored;
    fs::create_directories(folder_, ignored);
    fd_ = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  }
  if (fd_ < 0) fail(path, "create");
  size_ = 0;
  if (sync_) sync_folder(folder_);  // the new name must survive a power cut too
}

std::vector<BlobRef> SegmentLog::append(const std::vector<std::string_view>& blobs) {
  if (blobs.empty()) return {};
  std::lock_guard lock(mu_);
  std::uint64_t total = 0;
  for (const auto& b : blobs) total += b.size();
  if (fd_ < 0 || (size_ > 0 && size_ + total > segment_bytes_)) open_next_segment();

  std::vector<BlobRef> refs;
  refs.reserve(blobs.size());
  std::uint64_t at = size_;
  for (const auto& b : blobs) {
    refs.push_back({current_, at, b.size()});
    std::size_t written = 0;
    while (written < b.size()) {
      const auto n =
          ::pwrite(fd_, b.data() + written, b.size() - written, static_cast<off_t>(at + written));
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) {
        const int saved = errno;
        (void)::ftruncate(fd_, static_cast<off_t>(size_));  // drop the partial append
        errno = saved;
        fail(file(current_), "write");
      }
      written += static_cast<std::size_t>(n);
    }
    at += b.size();
  }
  if (sync_ && ::fdatasync(fd_) != 0) {
    const int saved = errno;
    (void)::ftruncate(fd_, static_cast<off_t>(size_));
    errno = saved;
    fail(file(current_), "sync");
  }
  size_ = at;
  ++holds_[current_];
  return refs;
}

std::string SegmentLog::read(const BlobRef& ref) const {
  const auto path = file(ref.segment);
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT)
      throw Error(ErrorClass::not_found, "job store: missing file " + path.string());
    fail(path, "open");
  }
  std::string bytes(ref.length, '\0');
  std::size_t got = 0;
  while (got < bytes.size()) {
    const auto n =
        ::pread(fd, bytes.data() + got, bytes.size() - got, static_cast<off_t>(ref.offset + got));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    got += static_cast<std::size_t>(n);
  }
  ::close(fd);
  if (got < bytes.size())
    throw Error(ErrorClass::not_found, "job store: " + path.string() + " ends before byte " +
                                           std::to_string(ref.offset + ref.length));
  return bytes;
}

void SegmentLog::hold(std::uint64_t segment, std::int64_t jobs) {
  std::lock_guard lock(mu_);
  holds_[segment] += jobs;
  // A number a stored job refers to is never used again, even if its file has gone.
  if (fd_ < 0 && segment >= current_) current_ = segment + 1;
}

void SegmentLog::release(std::uint64_t segment, std::int64_t jobs) {
  std::lock_guard lock(mu_);
  auto it = holds_.find(segment);
  if (it == holds_.end()) return;
  if ((it->second -= jobs) > 0) return;
  holds_.erase(it);
  remove_if_unheld(segment);
}

void SegmentLog::remove_if_unheld(std::uint64_t segment) {
  if (holds_.count(segment) || (segment == current_ && fd_ >= 0)) return;
  remove_(file(segment));
}

void SegmentLog::remove_unheld() {
  std::lock_guard lock(mu_);
  std::vector<std::uint64_t> found;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(folder_, ec))
    if (const auto n = segment_number(entry.path())) found.push_back(*n);
  for (const auto n : found) remove_if_unheld(n);
}

}  // namespace imagepipe::jobs
