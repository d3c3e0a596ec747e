#include "proxy/server/upstream.h"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/error.hpp>
#include <boost/asio/use_awaitable.hpp>

namespace warden::proxy {

namespace asio = boost::asio;
using asio::ip::tcp;

asio::awaitable<boost::system::error_code> connectToAny(tcp::socket& socket,
                                                        const std::vector<tcp::endpoint>& addresses) {
  boost::system::error_code last = asio::error::host_not_found;
  for (const tcp::endpoint& endpoint : addresses) {
    boost::system::error_code ignored;
    if (socket.is_open()) socket.close(ignored);
    auto [ec] = co_await socket.async_connect(endpoint, asio::as_tuple(asio::use_awaitable));
    if (!ec) {
      socket.set_option(tcp::no_delay(true), ignored);
      co_return ec;
    }
    last = ec;
    if (ec == asio::error::operation_aborted) break;  // the deadline passed: do not try the next one
  }
  co_return last;
}

std::string describeError(const boost::system::error_code& ec) {
  if (ec == asio::error::connection_refused) return "connection refused";
  if (ec == asio::error::connection_reset) return "connection reset";
  if (ec == asio::error::eof) return "connection closed";
  if (ec == asio::error::operation_aborted) return "timed out";
  if (ec == asio::error::host_unreachable) return "host unreachable";
  if (ec == asio::error::network_unreachable) return "network unreachable";
  if (ec == asio::error::broken_pipe) return "broken pipe";
  return ec.message();
}

bool isResetError(const boost::system::error_code& ec) {
  return ec == asio::error::connection_reset || ec == asio::error::broken_pipe ||
         ec == asio::error::connection_aborted;
}

}  // namespace warden::proxy
