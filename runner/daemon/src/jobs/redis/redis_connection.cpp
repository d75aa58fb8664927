#include "jobs/redis/redis_connection.hpp"

#include <hiredis/hiredis.h>

#include <algorithm>
#include <charconv>
#include <stdexcept>

#include "imagepipe/error.hpp"

namespace imagepipe::jobs::redis {

namespace {

constexpr std::chrono::milliseconds kFirstBackoff{100};
constexpr std::chrono::milliseconds kMaxBackoff{5000};

timeval to_timeval(std::chrono::milliseconds ms) {
  return timeval{static_cast<time_t>(ms.count() / 1000),
                 static_cast<suseconds_t>((ms.count() % 1000) * 1000)};
}

int parse_number(const std::string& text, const std::string& url, const char* what, int max) {
  int value = -1;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size() || value < 0 || value > max)
    throw std::invalid_argument("queue URL '" + url + "': " + what +
                                " must be a number from 0 to " + std::to_string(max));
  return value;
}

}  // namespace

std::string RedisAddress::display() const {
  return host + ":" + std::to_string(port) + "/" + std::to_string(db);
}

RedisAddress parse_redis_url(const std::string& url) {
  constexpr std::string_view scheme = "redis://";
  // The URL may carry a password: errors show it with the password left out.
  const auto shown = [&] {
    const auto at = url.find('@');
    return at == std::string::npos ? url : std::string(scheme) + "***@" + url.substr(at + 1);
  }();
  if (url.rfind(scheme, 0) != 0)
    throw std::invalid_argument("queue URL '" + shown +
                                "' must start with redis:// (redis://host:port/db)");
  RedisAddress a;
  std::string rest = url.substr(scheme.size());
  if (const auto at = rest.rfind('@'); at != std::string::npos) {
    auto user_info = rest.substr(0, at);
    rest = rest.substr(at + 1);
    const auto colon = user_info.find(':');
    a.password = colon == std::string::npos ? user_info : user_info.substr(colon + 1);
  }
  if (const auto slash = rest.find('/'); slash != std::string::npos) {
    const auto db = rest.substr(slash + 1);
    if (!db.empty()) a.db = parse_number(db, shown, "the database", 1'000'000);
    rest = rest.substr(0, slash);
  }
  if (const auto colon = rest.rfind(':'); colon != std::string::npos && rest.front() != '[') {
    a.port =
        static_cast<std::uint16_t>(parse_number(rest.substr(colon + 1), shown, "the port", 65535));
    rest = rest.substr(0, colon);
  }
  if (!rest.empty()) a.host = rest;
  if (a.host == "localhost") a.host = "127.0.0.1";
  return a;
}

void ReplyDeleter::operator()(redisReply* r) const { freeReplyObject(r); }

std::string reply_string(const redisReply* r) {
  if (!r || r->type == REDIS_REPLY_NIL) return {};
  if (r->type == REDIS_REPLY_STRING || r->type == REDIS_REPLY_STATUS)
    return std::string(r->str, r->len);
  if (r->type == REDIS_REPLY_INTEGER) return std::to_string(r->integer);
  throw Error(ErrorClass::internal,
              "redis: expected a string reply, got type " + std::to_string(r->type));
}

std::int64_t reply_integer(const redisReply* r) {
  if (r && r->type == REDIS_REPLY_INTEGER) return r->integer;
  if (r && r->type == REDIS_REPLY_STRING) return std::stoll(std::string(r->str, r->len));
  if (!r || r->type == REDIS_REPLY_NIL) return 0;
  throw Error(ErrorClass::internal, "redis: expected an integer reply");
}

bool reply_nil(const redisReply* r) { return !r || r->type == REDIS_REPLY_NIL; }

std::size_t reply_size(const redisReply* r) {
  return r && r->type == REDIS_REPLY_ARRAY ? r->elements : 0;
}

const redisReply* reply_at(const redisReply* r, std::size_t i) {
  if (!r || r->type != REDIS_REPLY_ARRAY || i >= r->elements)
    throw Error(ErrorClass::internal, "redis: a reply has fewer elements than expected");
  return r->element[i];
}

std::string reply_error(const redisReply* r) {
  return r && r->type == REDIS_REPLY_ERROR ? std::string(r->str, r->len) : std::string();
}

Connection::Connection(RedisAddress address, std::chrono::milliseconds timeout,
                       OnConnect on_connect, std::shared_ptr<ReconnectSignal> signal)
    : address_(std::move(address)),
      timeout_(timeout),
      on_connect_(std::move(on_connect)),
      signal_(std::move(signal)) {}

Connection::~Connection() {
  if (ctx_) redisFree(ctx_);
}

void Connection::lost(const std::string& what) {
  last_error_ = what;
  if (signal_) connects_seen_ = signal_->connects.load();
  if (ctx_) redisFree(ctx_);
  ctx_ = nullptr;
  throw Error(ErrorClass::unavailable, "redis at " + address_.display() + ": " + what);
}

redisContext* Connection::ensure() {
  if (ctx_) return ctx_;
  const auto now = std::chrono::steady_clock::now();
  const bool another_reconnected = signal_ && signal_->connects.load() != connects_seen_;
  if (now < next_attempt_ && !another_reconnected)
    throw Error(ErrorClass::unavailable, "redis at " + address_.display() + " is unreachable (" +
                                             last_error_ + "); reconnecting with backoff");
  backoff_ = std::clamp(backoff_ * 2, kFirstBackoff, kMaxBackoff);
  next_attempt_ = now + backoff_;
  const auto tv = to_timeval(timeout_);
  ctx_ = redisConnectWithTimeout(address_.host.c_str(), address_.port, tv);
  if (!ctx_) lost("cannot allocate a connection");
  if (ctx_->err) lost(ctx_->errstr);
  redisSetTimeout(ctx_, tv);
  redisEnableKeepAlive(ctx_);
  if (!address_.password.empty()) {
    // Not through must(): an error would name the command, never the password.
    auto r = call({"AUTH", address_.password});
    if (!reply_error(r.get()).empty()) lost("AUTH refused: " + reply_error(r.get()));
  }
  if (address_.db != 0) {
    auto r = call({"SELECT", std::to_string(address_.db)});
    if (!reply_error(r.get()).empty()) lost("SELECT refused: " + reply_error(r.get()));
  }
  if (on_connect_) {
    try {
      on_connect_(*this);
    } catch (const Error& e) {
      if (ctx_) lost(e.what());
      throw;
    }
  }
  backoff_ = std::chrono::milliseconds(0);
  if (signal_) ++signal_->connects;
  return ctx_;
}

Reply Connection::call(const Command& command) {
  auto* ctx = ensure();
  std::vector<const char*> argv;
  std::vector<size_t> lengths;
  for (const auto& part : command) {
    argv.push_back(part.data());
    lengths.push_back(part.size());
  }
  auto* r = static_cast<redisReply*>(
      redisCommandArgv(ctx, static_cast<int>(argv.size()), argv.data(), lengths.data()));
  if (!r) lost(ctx->errstr[0] ? ctx->errstr : "connection lost");
  return Reply(r);
}

Reply Connection::must(const Command& command) {
  auto r = call(command);
  if (const auto error = reply_error(r.get()); !error.empty())
    throw Error(ErrorClass::internal, "redis " + command.front() + ": " + error);
  return r;
}

std::vector<Reply> Connection::pipeline(const std::vector<Command>& commands) {
  auto* ctx = ensure();
  std::vector<const char*> argv;
  std::vector<size_t> lengths;
  for (const auto& command : commands) {
    argv.clear();
    lengths.clear();
    for (const auto& part : command) {
      argv.push_back(part.data());
      lengths.push_back(part.size());
    }
    if (redisAppendCommandArgv(ctx, static_cast<int>(argv.size()), argv.data(), lengths.data()) !=
        REDIS_OK)
      lost(ctx->errstr[0] ? ctx->errstr : "cannot queue a command");
  }
  std::vector<Reply> replies;
  replies.reserve(commands.size());
  for (std::size_t i = 0; i < commands.size(); ++i) {
    void* r = nullptr;
    if (redisGetReply(ctx, &r) != REDIS_OK || !r)
      lost(ctx->errstr[0] ? ctx->errstr : "connection lost");
    replies.emplace_back(static_cast<redisReply*>(r));
  }
  return replies;
}

}  // namespace imagepipe::jobs::redis
