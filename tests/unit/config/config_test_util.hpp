// Helpers shared by the config tests: temporary files and catching a PipelineError.
#pragma once

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <string>

#include <unistd.h>

#include "imagepipe/pipeline.hpp"

namespace imagepipe::testing {

class TempFile {
 public:
  TempFile(std::string_view name, std::string_view content)
      : path_(std::filesystem::temp_directory_path() /
              ("imagepipe-config-" + std::to_string(::getpid()) + "-" + std::string(name))) {
    std::ofstream(path_, std::ios::binary) << content;
  }
  ~TempFile() { std::filesystem::remove(path_); }
  TempFile(const TempFile&) = delete;
  TempFile& operator=(const TempFile&) = delete;
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

// Runs `load` and returns the formatted error; fails the test when nothing is thrown.
template <class Load>
std::string error_text(Load&& load) {
  try {
    load();
  } catch (const PipelineError& error) {
    return error.format();
  }
  ADD_FAILURE() << "expected a PipelineError";
  return {};
}

}  // namespace imagepipe::testing
