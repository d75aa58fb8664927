// `from: storage`: the objects under a prefix, listed a page at a time while items run. The
// listing is walked twice: once to count (a batch over max_items is refused before any
// item runs, or any provider is paid), then page by page as workers take items, the next
// page asked for while half of the current one is still to go. Either way at most two
// pages of keys are held, whatever the number of objects.
#include <deque>

#include <boost/asio/redirect_error.hpp>

#include "imagepipe/plugin_interfaces.hpp"
#include "sources.hpp"

namespace imagepipe {

namespace {

constexpr int kPageSize = 1000;

// Whether an object is an item: not a "folder" marker, and a name `extensions` takes.
bool is_item(const ObjectInfo& object, const std::vector<std::string>& extensions) {
  if (object.key.empty() || object.key.back() == '/') return false;
  return accepted_name(object.key.substr(object.key.rfind('/') + 1), extensions);
}

std::string over_limit(std::size_t limit, const std::string& prefix) {
  return "more than " + std::to_string(limit) + " objects under prefix '" + prefix +
         "' (limits.max_items)";
}

Task<std::size_t> count_objects(Storage& storage, const std::string& prefix,
                                const std::vector<std::string>& extensions, std::size_t limit) {
  std::size_t count = 0;
  std::string token;
  do {
    auto page = co_await storage.list(prefix, token, kPageSize);
    for (const auto& object : page.objects)
      if (is_item(object, extensions) && ++count > limit)
        throw Error(ErrorClass::invalid_input, over_limit(limit, prefix));
    token = std::move(page.next_token);
  } while (!token.empty());
  co_return count;
}

class StorageSource final : public ItemSource {
 public:
  StorageSource(asio::any_io_executor ex, Storage& storage, std::string prefix,
                std::vector<std::string> extensions, std::size_t count)
      : ex_(std::move(ex)),
        storage_(storage),
        prefix_(std::move(prefix)),
        extensions_(std::move(extensions)),
        count_(count) {}

  std::size_t size() const override { return count_; }

  Task<std::optional<SourceItem>> next() override {
    while (keys_.empty()) {
      if (error_) std::rethrow_exception(error_);
      if (listed_ && !fetching_) co_return std::nullopt;
      if (!fetching_) start_fetch();
      co_await fetch_done();
    }
    // Objects added after the count are left for the next batch: the count was the promise.
    if (taken_ == count_) co_return std::nullopt;
    ++taken_;
    auto key = std::move(keys_.front());
    keys_.pop_front();
    if (keys_.size() < kPageSize / 2 && !fetching_ && !listed_) start_fetch();
    Storage* storage = &storage_;
    // Named by the whole key: "batch/pic 1.jpg" tells an operator which object failed. A
    // named item, not an aggregate temporary: g++ 12 mishandles those around coroutines.
    SourceItem item{
        key, key, [storage, key]() -> Task<std::string> { co_return co_await storage->get(key); }};
    co_return item;
  }

  Task<void> close() override {
    while (fetching_) co_await fetch_done();
  }

 private:
  void start_fetch() {
    fetching_ = true;
    done_ = std::make_shared<asio::steady_timer>(ex_, std::chrono::steady_clock::time_point::max());
    asio::co_spawn(ex_, fetch_page(), [this, done = done_](std::exception_ptr e) {
      if (e) error_ = e;
      fetching_ = false;
      done->cancel();
    });
  }

  Task<void> fetch_page() {
    auto page = co_await storage_.list(prefix_, token_, kPageSize);
    for (auto& object : page.objects)
      if (is_item(object, extensions_)) keys_.push_back(std::move(object.key));
    token_ = std::move(page.next_token);
    listed_ = token_.empty();
  }

  Task<void> fetch_done() {
    auto done = done_;
    boost::system::error_code ignored;
    co_await done->async_wait(asio::redirect_error(asio::use_awaitable, ignored));
  }

  asio::any_io_executor ex_;
  Storage& storage_;
  std::string prefix_;
  std::vector<std::string> extensions_;
  std::size_t count_;
  std::size_t taken_ = 0;
  std::deque<std::string> keys_;  // listed, not taken yet
  std::string token_;
  bool listed_ = false;    // the last page is in keys_
  bool fetching_ = false;  // a page is being asked for; done_ fires when it is in
  std::shared_ptr<asio::steady_timer> done_;
  std::exception_ptr error_;
};

}  // namespace

Task<std::unique_ptr<ItemSource>> open_storage_source(const SourceContext& ctx) {
  const auto& spec = ctx.pipeline.source;
  if (!ctx.storage) throw Error(ErrorClass::internal, "source storage is not configured");
  const std::string prefix = spec.prefix.render_string(ctx.scope);
  const std::size_t limit = std::min(spec.max_items, ctx.pipeline.limits.max_items);
  const auto count = co_await count_objects(*ctx.storage, prefix, spec.extensions, limit);
  co_return std::make_unique<StorageSource>(co_await asio::this_coro::executor, *ctx.storage,
                                            prefix, spec.extensions, count);
}

}  // namespace imagepipe
