// One blocking hiredis connection, used by one thread of the Redis job store. Blocking
// calls on the store's own threads keep the store shaped like the SQLite one (a thread
// that owns its connection, callers resume on their executor) and let a burst of
// concurrent adds go out as one command: one round trip and one AOF fsync for the batch,
// the way SQLite's group commit shares one commit.
//
// A broken connection is dropped and opened again on the next call, no more often than
// an exponential backoff allows (100 ms to 5 s), so a node without Redis answers at once
// with an error naming Redis instead of hanging every request on a connect timeout.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

struct redisContext;
struct redisReply;

namespace imagepipe::jobs::redis {

// redis://[:password@]host[:port][/db]. The password is never part of what() of errors.
struct RedisAddress {
  std::string host = "127.0.0.1";
  std::uint16_t port = 6379;
  int db = 0;
  std::string password;
  std::string display() const;  // host:port/db, for logs and errors
};
// Throws std::invalid_argument naming what is wrong with `url`.
RedisAddress parse_redis_url(const std::string& url);

// A reply, freed with its connection's allocator.
struct ReplyDeleter {
  void operator()(redisReply* r) const;
};
using Reply = std::unique_ptr<redisReply, ReplyDeleter>;

// Reading replies: these throw Error(internal) on a reply of another type.
std::string reply_string(const redisReply* r);  // bulk or status; "" for nil
std::int64_t reply_integer(const redisReply* r);
bool reply_nil(const redisReply* r);
std::size_t reply_size(const redisReply* r);  // elements of an array, 0 for nil
const redisReply* reply_at(const redisReply* r, std::size_t i);
// A Redis error reply (ERR, NOGROUP...): what it said, or "" when `r` is not an error.
std::string reply_error(const redisReply* r);

using Command = std::vector<std::string>;

// Shared by the connections of one store: a connection that reconnects tells the others,
// so one waiting out its backoff tries again at once instead of answering 503 for seconds
// after Redis is back (and after /health/ready, on another connection, already said so).
struct ReconnectSignal {
  std::atomic<std::uint64_t> connects{0};
};

class Connection {
 public:
  // Called after each (re)connect, before any command: creates stream groups.
  using OnConnect = std::function<void(Connection&)>;
  Connection(RedisAddress address, std::chrono::milliseconds timeout, OnConnect on_connect = {},
             std::shared_ptr<ReconnectSignal> signal = {});
  ~Connection();
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  // One command; an error reply is returned as it is (check reply_error).
  // Throws Error(unavailable) naming Redis when there is no connection.
  Reply call(const Command& command);
  // Like call(), but an error reply throws Error(internal) with the command's name.
  Reply must(const Command& command);
  // Several commands in one write, their replies in order.
  std::vector<Reply> pipeline(const std::vector<Command>& commands);

  bool connected() const { return ctx_ != nullptr; }
  const RedisAddress& address() const { return address_; }

 private:
  redisContext* ensure();
  [[noreturn]] void lost(const std::string& what);

  RedisAddress address_;
  std::chrono::milliseconds timeout_;
  OnConnect on_connect_;
  redisContext* ctx_ = nullptr;
  std::string last_error_;
  std::chrono::steady_clock::time_point next_attempt_{};
  std::chrono::milliseconds backoff_{0};
  std::shared_ptr<ReconnectSignal> signal_;
  std::uint64_t connects_seen_ = 0;  // signal_'s count when this connection last failed
};

}  // namespace imagepipe::jobs::redis
