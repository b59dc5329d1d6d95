#include "common/redis/redis_endpoint.hpp"

#include <algorithm>
#include <boost/url/grammar/ci_string.hpp>
#include <boost/url/parse.hpp>
#include <boost/url/url_view.hpp>
#include <charconv>
#include <limits>

#include "common/redis/error.hpp"

namespace jobgate::redis {

namespace {

template <typename Integer>
bool parse_decimal(std::string_view text, Integer min, Integer max, Integer& out) {
  if (text.empty()) {
    return false;
  }
  Integer value{};
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error != std::errc{} || end != text.data() + text.size() || value < min || value > max) {
    return false;
  }
  out = value;
  return true;
}

// Names the invalid part of a URL that Boost.URL rejected as a whole.
errc diagnose(std::string_view url) {
  const std::size_t scheme_end = url.find("://");
  if (scheme_end == std::string_view::npos) {
    return errc::invalid_url_syntax;
  }
  if (url.substr(0, scheme_end) != "redis") {
    return errc::invalid_url_scheme;
  }
  std::string_view authority = url.substr(scheme_end + 3);
  authority = authority.substr(0, authority.find_first_of("/?#"));
  const std::size_t at = authority.rfind('@');
  if (at != std::string_view::npos) {
    authority.remove_prefix(at + 1);
  }

  // Split host and port: an IPv6 host ends at its closing bracket, any other at the last colon.
  const bool bracketed = authority.starts_with('[');
  std::size_t host_end = bracketed ? authority.find(']') : authority.rfind(':');
  if (bracketed && host_end == std::string_view::npos) {
    return errc::invalid_url_host;
  }
  host_end = bracketed ? host_end + 1 : std::min(host_end, authority.size());
  const std::string_view host = authority.substr(0, host_end);
  std::string_view port = authority.substr(host_end);
  if (!port.empty()) {
    if (!port.starts_with(':')) {
      return errc::invalid_url_host;
    }
    port.remove_prefix(1);
    std::uint16_t ignored = 0;
    if (!parse_decimal<std::uint16_t>(port, 1, std::numeric_limits<std::uint16_t>::max(),
                                      ignored)) {
      return errc::invalid_url_port;
    }
  }

  // The host is invalid when it contains characters that no host name, IPv4 or IPv6 address has.
  const bool plain_host = host.find_first_not_of(
                              "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
                              "-._~%!$&'()*+,;=[]:") == std::string_view::npos;
  return plain_host ? errc::invalid_url_syntax : errc::invalid_url_host;
}

}  // namespace

std::string redis_endpoint::masked_url() const {
  std::string url = "redis://";
  if (!password.empty()) {
    url += username;
    url += ":***@";
  }
  if (host.find(':') != std::string::npos) {
    url += '[' + host + ']';
  } else {
    url += host;
  }
  url += ':' + std::to_string(port);
  if (database != 0) {
    url += '/' + std::to_string(database);
  }
  return url;
}

boost::system::result<redis_endpoint> parse_redis_url(std::string_view url) {
  const auto parsed = boost::urls::parse_uri(url);
  if (!parsed) {
    return diagnose(url);
  }
  const boost::urls::url_view& view = *parsed;

  if (!boost::urls::grammar::ci_is_equal(view.scheme(), "redis")) {
    return errc::invalid_url_scheme;
  }
  if (!view.has_authority() || view.has_query() || view.has_fragment()) {
    return errc::invalid_url_syntax;
  }

  redis_endpoint endpoint;

  // Credentials: ":password" or "user:password".
  if (view.has_userinfo()) {
    if (!view.has_password() || view.encoded_password().empty()) {
      return errc::invalid_url_userinfo;
    }
    endpoint.username = view.user();
    endpoint.password = view.password();
  }

  // Host: a name, an IPv4 address or a bracketed IPv6 address.
  switch (view.host_type()) {
    case boost::urls::host_type::name:
      endpoint.host = view.host_name();
      break;
    case boost::urls::host_type::ipv4:
    case boost::urls::host_type::ipv6:
      endpoint.host = view.host_address();
      break;
    default:
      return errc::invalid_url_host;
  }
  if (endpoint.host.empty()) {
    return errc::invalid_url_host;
  }

  if (view.has_port() &&
      !parse_decimal<std::uint16_t>(view.port(), 1, std::numeric_limits<std::uint16_t>::max(),
                                    endpoint.port)) {
    return errc::invalid_url_port;
  }

  // Database: an empty path, "/" or "/<number>".
  std::string_view path = view.encoded_path();
  if (!path.empty() && path != "/") {
    path.remove_prefix(1);
    if (!parse_decimal<int>(path, 0, std::numeric_limits<int>::max(), endpoint.database)) {
      return errc::invalid_url_database;
    }
  }

  return endpoint;
}

std::string masked_redis_url(std::string_view url) {
  auto endpoint = parse_redis_url(url);
  return endpoint ? endpoint->masked_url() : std::string("(invalid URL)");
}

}  // namespace jobgate::redis
