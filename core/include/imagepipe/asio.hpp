// The one way to include Boost.Asio in imagepipe.
// Boost 1.74's asio/awaitable.hpp uses std::exchange without including <utility>,
// so <utility> must come first; every file that wants Asio includes this header instead.
#pragma once

#include <utility>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/asio/use_awaitable.hpp>

namespace imagepipe {
namespace asio = boost::asio;
template <class T = void>
using Task = asio::awaitable<T>;
}  // namespace imagepipe
