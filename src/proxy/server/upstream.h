#pragma once

// Connecting to an upstream the SSRF check approved.

#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <string>
#include <system_error>
#include <vector>

namespace warden::proxy {

// Tries `addresses` in order (only addresses resolveAndCheck returned) until one accepts. The wait is
// bounded by the connection's Deadline (phase kConnect), whose on_expire cancels `socket`. Sets
// TCP_NODELAY on success. Returns the last error when none accepted. Never throws.
boost::asio::awaitable<boost::system::error_code> connectToAny(
    boost::asio::ip::tcp::socket& socket, const std::vector<boost::asio::ip::tcp::endpoint>& addresses);

// Words for an upstream error in events and 502 bodies: "connection refused", "connection reset".
std::string describeError(const boost::system::error_code& ec);

// True for errors that mean the peer reset or refused rather than closed cleanly.
bool isResetError(const boost::system::error_code& ec);

}  // namespace warden::proxy
