// A TCP connection to the daemon held open by a test, from a chosen loopback source
// address: for the abuse limits, where what matters is bytes sent slowly, connections left
// open, and from which client address they come (127.0.0.2 is another client to the
// daemon, while the test's own checks come from 127.0.0.1).
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

namespace imagepipe::testing {

class RawConnection {
 public:
  RawConnection(std::uint16_t port, const std::string& source = "127.0.0.1");
  ~RawConnection();
  RawConnection(RawConnection&& other) noexcept;
  RawConnection(const RawConnection&) = delete;
  RawConnection& operator=(const RawConnection&) = delete;

  // False when the daemon has closed (or reset) the connection.
  bool send(const std::string& bytes);
  // Whatever arrives within `timeout`, up to the daemon closing the connection.
  std::string receive(std::chrono::milliseconds timeout);
  // True once the daemon has closed its end (reads end of stream within `timeout`).
  bool closed_within(std::chrono::milliseconds timeout);
  const std::string& received() const { return received_; }

 private:
  int fd_ = -1;
  bool eof_ = false;
  std::string received_;
};

// The error text of a JSON error answer in `raw` (an HTTP response as bytes), or "".
std::string error_of(const std::string& raw);

}  // namespace imagepipe::testing
