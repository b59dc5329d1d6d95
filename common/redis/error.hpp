#pragma once

#include <boost/system/error_code.hpp>
#include <type_traits>

namespace jobgate::redis {

// Failures of the Redis clients. A Redis error reply (WRONGTYPE, NOSCRIPT, ...) is not one of
// these: it arrives as a reply whose is_error() is true.
enum class errc {
  // parse_redis_url: each names the part of the URL that is invalid.
  invalid_url_scheme = 1,
  invalid_url_syntax,
  invalid_url_userinfo,
  invalid_url_host,
  invalid_url_port,
  invalid_url_database,

  // Transport: retryable, see is_retryable().
  resolve_failed,
  connection_refused,
  connection_lost,
  timeout,
  not_connected,
  queue_full,

  // Not retryable without a change of configuration or code.
  auth_failed,
  select_failed,
  protocol_error,
  out_of_memory,
  invalid_command,
  closed,
  replies_pending,
  no_reply_pending,
};

const boost::system::error_category& error_category() noexcept;

boost::system::error_code make_error_code(errc value) noexcept;

// True for failures that may pass when the same command is sent again later (server down,
// restarting or slow): callers turn these into 503 with Retry-After.
bool is_retryable(const boost::system::error_code& error) noexcept;

}  // namespace jobgate::redis

namespace boost::system {

template <>
struct is_error_code_enum<jobgate::redis::errc> : std::true_type {};

}  // namespace boost::system
