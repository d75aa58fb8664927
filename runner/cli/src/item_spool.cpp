#include "item_spool.hpp"

#include <cerrno>
#include <cstring>
#include <string>

namespace imagepipe::runner {

using nlohmann::json;

namespace {

// An element of the summary's "items" array as dump(2) lays it out: one level deeper.
void print_element(std::ostream& out, const std::string& dumped, bool first) {
  out << (first ? "\n" : ",\n") << "    ";
  for (const char c : dumped) {
    out << c;
    if (c == '\n') out << "    ";
  }
}

}  // namespace

ItemSpool::ItemSpool() : file_(std::tmpfile()) {
  if (!file_)
    throw Error(
        ErrorClass::unavailable,
        std::string("cannot create a temporary file for the items: ") + std::strerror(errno));
}

Task<void> ItemSpool::add(const ItemResult& item) {
  if (item.index < JobResult::kKeptItems) co_return;  // in the result already
  const auto slot = item.index - JobResult::kKeptItems;
  if (offsets_.size() <= slot) offsets_.resize(slot + 1, -1);
  std::fseek(file_.get(), 0, SEEK_END);
  offsets_[slot] = std::ftell(file_.get());
  const auto line = item_summary(item).dump() + "\n";  // one line: JSON escapes newlines
  if (std::fwrite(line.data(), 1, line.size(), file_.get()) != line.size())
    throw Error(ErrorClass::unavailable, "cannot write the items' temporary file");
}

Task<void> ItemSpool::flush() {
  if (std::fflush(file_.get()) != 0)
    throw Error(ErrorClass::unavailable, "cannot write the items' temporary file");
  co_return;
}

void ItemSpool::print_summary(std::ostream& out, const JobResult& job) const {
  if (offsets_.empty()) {
    out << job_summary(job).dump(2);
    return;
  }
  // The summary without its items, split where they go.
  json summary = job_summary(job);
  const json kept = std::move(summary["items"]);
  // Found as a top-level key's line: a newline inside any string value is escaped.
  const std::string marker = "imagepipe-spooled-items";
  summary["items"] = marker;
  const auto text = summary.dump(2);
  const std::string line_of_items = "\n  \"items\": \"" + marker + "\"";
  const auto at = text.find(line_of_items);
  out << text.substr(0, at) << "\n  \"items\": [";
  bool first = true;
  for (const auto& item : kept) {
    print_element(out, item.dump(2), first);
    first = false;
  }
  std::string line;
  for (const long offset : offsets_) {
    if (offset < 0) continue;
    std::fseek(file_.get(), offset, SEEK_SET);
    line.clear();
    char buffer[4096];
    while (std::fgets(buffer, sizeof buffer, file_.get())) {
      line += buffer;
      if (line.back() == '\n') break;
    }
    line = json::parse(line).dump(2);
    print_element(out, line, first);
    first = false;
  }
  out << "\n  ]" << text.substr(at + line_of_items.size());
}

}  // namespace imagepipe::runner
