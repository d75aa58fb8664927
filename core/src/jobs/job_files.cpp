#include "jobs/job_files.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>

#include "imagepipe/error.hpp"

namespace fs = std::filesystem;

namespace imagepipe::jobs {

namespace {
[[noreturn]] void fail(const fs::path& file, const char* what) {
  throw Error(ErrorClass::unavailable, std::string("job store: cannot ") + what + " " +
                                           file.string() + ": " + std::strerror(errno));
}
}  // namespace

JobFiles::JobFiles(fs::path root, bool sync) : root_(std::move(root)), sync_(sync) {
  std::error_code ignored;  // a failure shows at the first write, naming the file
  fs::create_directories(root_ / "inputs", ignored);
  fs::create_directories(root_ / "results", ignored);
}

fs::path JobFiles::input(const std::string& job, std::size_t n) const {
  return root_ / "inputs" / (job + "." + std::to_string(n) + ".bin");
}

fs::path JobFiles::result(const std::string& job, std::size_t k) const {
  return root_ / "results" / (job + ".r" + std::to_string(k) + ".bin");
}

void JobFiles::write(const fs::path& file, std::string_view bytes) const {
  int fd = ::open(file.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0 && errno == ENOENT) {  // the folder went away (an operator cleaning up)
    fs::create_directories(file.parent_path());
    fd = ::open(file.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  }
  if (fd < 0) fail(file, "create");
  std::size_t written = 0;
  while (written < bytes.size()) {
    const auto n = ::write(fd, bytes.data() + written, bytes.size() - written);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      ::close(fd);
      fail(file, "write");
    }
    written += static_cast<std::size_t>(n);
  }
  if (sync_ && ::fsync(fd) != 0) {
    ::close(fd);
    fail(file, "sync");
  }
  ::close(fd);
}

std::string JobFiles::read(const fs::path& file) const {
  std::ifstream in(file, std::ios::binary);
  if (!in) throw Error(ErrorClass::not_found, "job store: missing file " + file.string());
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

void JobFiles::remove_inputs(const std::string& job) const {
  for (std::size_t n = 0; ::unlink(input(job, n).c_str()) == 0; ++n) {
  }
}

void JobFiles::remove_all(const std::string& job) const {
  remove_inputs(job);
  for (std::size_t k = 0; ::unlink(result(job, k).c_str()) == 0; ++k) {
  }
}

}  // namespace imagepipe::jobs
