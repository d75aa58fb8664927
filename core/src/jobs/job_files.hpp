// Where a job's bytes live beside the database: inputs/<job>/<n>.bin for the images a
// request carried, results/<job>/<item>-<output>.bin for results kept inline (base64
// callbacks). Keeping them out of SQLite keeps the database small and its pages hot.
#pragma once

#include <filesystem>
#include <string>

namespace imagepipe::jobs {

class JobFiles {
 public:
  JobFiles(std::filesystem::path root, bool sync) : root_(std::move(root)), sync_(sync) {}

  std::filesystem::path input(const std::string& job, std::size_t n) const;
  std::filesystem::path result(const std::string& job, std::size_t item, std::size_t output) const;

  // Creates parent folders; with `sync`, the bytes reach the disk before it returns.
  void write(const std::filesystem::path& file, std::string_view bytes) const;
  std::string read(const std::filesystem::path& file) const;  // Error(not_found) when absent
  void remove_inputs(const std::string& job) const;
  void remove_all(const std::string& job) const;

 private:
  std::filesystem::path root_;
  bool sync_;
};

}  // namespace imagepipe::jobs
