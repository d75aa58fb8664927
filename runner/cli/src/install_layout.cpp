#include "install_layout.hpp"

namespace imagepipe::runner {

namespace {

namespace fs = std::filesystem;

// <prefix>/<rel> when this executable is <prefix>/bin/<name> and <rel> is a folder there.
fs::path beside_prefix(const fs::path& rel) {
  std::error_code ec;
  const auto exe = fs::read_symlink("/proc/self/exe", ec);
  if (ec || exe.parent_path().filename() != "bin") return {};
  auto dir = exe.parent_path().parent_path() / rel;
  return fs::is_directory(dir, ec) ? dir : fs::path();
}

}  // namespace

fs::path installed_plugin_dir() {
  return beside_prefix(fs::path(IMAGEPIPE_INSTALL_LIBDIR) / "imagepipe" / "plugins");
}

fs::path default_pipeline_dir() {
  auto installed = beside_prefix(fs::path(IMAGEPIPE_INSTALL_DATADIR) / "imagepipe" / "pipelines");
  return installed.empty() ? fs::path(IMAGEPIPE_DEFAULT_PIPELINE_DIR) : installed;
}

}  // namespace imagepipe::runner
