#include "raw_connection.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <nlohmann/json.hpp>
#include <stdexcept>

namespace imagepipe::testing {

RawConnection::RawConnection(std::uint16_t port, const std::string& source) {
  fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd_ < 0) throw std::runtime_error("socket failed");
  sockaddr_in from{};
  from.sin_family = AF_INET;
  ::inet_pton(AF_INET, source.c_str(), &from.sin_addr);
  if (::bind(fd_, reinterpret_cast<sockaddr*>(&from), sizeof from) != 0) {
    ::close(fd_);
    throw std::runtime_error("cannot bind to " + source);
  }
  sockaddr_in to{};
  to.sin_family = AF_INET;
  to.sin_port = htons(port);
  to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd_, reinterpret_cast<sockaddr*>(&to), sizeof to) != 0) {
    ::close(fd_);
    throw std::runtime_error("cannot connect to the daemon");
  }
}

RawConnection::RawConnection(RawConnection&& other) noexcept
    : fd_(other.fd_), eof_(other.eof_), received_(std::move(other.received_)) {
  other.fd_ = -1;
}

RawConnection::~RawConnection() {
  if (fd_ >= 0) ::close(fd_);
}

bool RawConnection::send(const std::string& bytes) {
  for (std::size_t sent = 0; sent < bytes.size();) {
    const auto n = ::send(fd_, bytes.data() + sent, bytes.size() - sent, MSG_NOSIGNAL);
    if (n <= 0) return false;
    sent += static_cast<std::size_t>(n);
  }
  return true;
}

std::string RawConnection::receive(std::chrono::milliseconds timeout) {
  const auto start = received_.size();
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!eof_) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    pollfd p{fd_, POLLIN, 0};
    if (left.count() <= 0 || ::poll(&p, 1, static_cast<int>(left.count())) <= 0) break;
    char buf[4096];
    const auto n = ::recv(fd_, buf, sizeof buf, 0);
    if (n <= 0) {
      eof_ = true;
      break;
    }
    received_.append(buf, static_cast<std::size_t>(n));
  }
  return received_.substr(start);
}

bool RawConnection::closed_within(std::chrono::milliseconds timeout) {
  receive(timeout);
  return eof_;
}

std::string error_of(const std::string& raw) {
  const auto body = raw.find("\r\n\r\n");
  if (body == std::string::npos) return "";
  const auto parsed = nlohmann::json::parse(raw.substr(body + 4), nullptr, false);
  if (!parsed.is_object() || !parsed.contains("error") || !parsed["error"].is_string()) return "";
  return parsed["error"].get<std::string>();
}

}  // namespace imagepipe::testing
