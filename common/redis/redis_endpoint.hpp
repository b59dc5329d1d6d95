#pragma once

#include <boost/system/result.hpp>
#include <cstdint>
#include <string>
#include <string_view>

namespace jobgate::redis {

// The address of a Redis server and its login, as parsed from a redis:// URL.
struct redis_endpoint {
  std::string host = "127.0.0.1";
  std::uint16_t port = 6379;
  // With an empty password no AUTH is sent. A username selects a Redis 6 ACL user.
  std::string username;
  std::string password;
  // SELECT is sent only when the database is not 0.
  int database = 0;

  // The endpoint as a URL with the password replaced by "***", for logs.
  std::string masked_url() const;
};

// Parses "redis://[[user]:password@]host[:port][/db]". The port defaults to 6379 and the database
// to 0; user and password are percent-decoded; IPv6 hosts go in brackets. On failure the error is
// one of the errc::invalid_url_* values, whose message names the invalid part but never repeats the
// URL, because it may contain a password.
boost::system::result<redis_endpoint> parse_redis_url(std::string_view url);

// The URL with its password replaced, for logs, or "(invalid URL)" when it does not parse.
std::string masked_redis_url(std::string_view url);

}  // namespace jobgate::redis
