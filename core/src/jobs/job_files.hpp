// Where a job's bytes live beside the database: inputs/<job>.<n>.bin for the images a
// request carried, results/<job>.r<k>.bin for the k-th result kept inline (base64
// callbacks). Keeping them out of SQLite keeps the database small and its pages hot.
//
// Two flat folders, no folder per job: creating and removing two folders per job spent
// a third of the daemon's accept time in the file system's inode allocation. Numbers
// run from 0 without gaps, so removal needs no listing: unlink until one is missing.
#pragma once

#include <filesystem>
#include <string>

namespace imagepipe::jobs {

class JobFiles {
 public:
  JobFiles(std::filesystem::path root, bool sync);

  std::filesystem::path input(const std::string& job, std::size_t n) const;
  std::filesystem::path result(const std::string& job, std::size_t k) const;

  // With `sync`, the bytes reach the disk before it returns.
  void write(const std::filesystem::path& file, std::string_view bytes) const;
  std::string read(const std::filesystem::path& file) const;  // Error(not_found) when absent
  void remove_inputs(const std::string& job) const;
  void remove_all(const std::string& job) const;

 private:
  std::filesystem::path root_;
  bool sync_;
};

}  // namespace imagepipe::jobs
