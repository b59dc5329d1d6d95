#include "common/webhooks/target_url.hpp"

#include <algorithm>
#include <boost/url/parse.hpp>
#include <boost/url/url_view.hpp>
#include <charconv>

namespace jobgate::webhooks {
namespace {

constexpr std::size_t max_url_length = 2048;

char to_lower(char c) {
  return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
}

bool is_digit(char c) {
  return c >= '0' && c <= '9';
}

bool is_hex_digit(char c) {
  return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

bool is_host_name_char(char c) {
  return is_digit(c) || (c >= 'a' && c <= 'z') || c == '-' || c == '_' || c == '.';
}

// True when the last label is a decimal or "0x" hex number, as in "127.1" or "0x7f.1". glibc's
// getaddrinfo() (Debian 12) resolves such names as IPv4 shorthand, e.g. "127.1" to 127.0.0.1.
bool ends_in_number(std::string_view host) {
  if (host.ends_with('.')) {
    host.remove_suffix(1);
  }
  const std::size_t dot = host.rfind('.');
  const std::string_view label = dot == std::string_view::npos ? host : host.substr(dot + 1);
  if (label.empty()) {
    return false;
  }
  if (label.starts_with("0x") || label.starts_with("0X")) {
    return std::all_of(label.begin() + 2, label.end(), is_hex_digit);
  }
  return std::all_of(label.begin(), label.end(), is_digit);
}

// Reads the host of a parsed URL into `url`, lowercased and without brackets.
bool read_host(const boost::urls::url_view& parsed, target_url& url, std::string& error) {
  switch (parsed.host_type()) {
    case boost::urls::host_type::ipv4:
      url.host = parsed.host_ipv4_address().to_string();
      return true;
    case boost::urls::host_type::ipv6:
      url.host = parsed.host_ipv6_address().to_string();
      return true;
    case boost::urls::host_type::ipvfuture:
      error = "the URL host must be a DNS name, an IPv4 address or an IPv6 address";
      return false;
    case boost::urls::host_type::none:
      error = "the URL has no host";
      return false;
    case boost::urls::host_type::name:
      break;
  }

  const std::string_view name = parsed.encoded_host_name();
  if (name.empty()) {
    error = "the URL has no host";
    return false;
  }
  url.host.clear();
  for (const char c : name) {
    url.host += to_lower(c);
  }
  if (!std::all_of(url.host.begin(), url.host.end(), is_host_name_char)) {
    error = "the URL host may contain only letters, digits, '-', '_' and '.'";
    return false;
  }
  if (ends_in_number(url.host)) {
    error = "the URL host looks like an IPv4 address; write it as four decimal numbers";
    return false;
  }
  return true;
}

// Reads the port, or the scheme's default when the URL names none or leaves it empty.
bool read_port(const boost::urls::url_view& parsed, target_url& url, std::string& error) {
  const std::string_view text = parsed.port();
  if (!parsed.has_port() || text.empty()) {
    url.port = url.tls ? 443 : 80;
    return true;
  }
  unsigned long value = 0;
  const auto [end, errc] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (errc != std::errc{} || end != text.data() + text.size() || value == 0 || value > 65535) {
    error = "the URL port must be between 1 and 65535";
    return false;
  }
  url.port = static_cast<std::uint16_t>(value);
  return true;
}

}  // namespace

std::optional<target_url> parse_target_url(std::string_view text, std::string& error) {
  if (text.size() > max_url_length) {
    error = "the URL is longer than " + std::to_string(max_url_length) + " characters";
    return std::nullopt;
  }
  // parse_uri() rather than parse_absolute_uri(), which rejects any fragment, so a URL with a
  // fragment gets the message that names it.
  const auto parsed = boost::urls::parse_uri(text);
  if (!parsed) {
    error = "the URL is not a valid absolute URL";
    return std::nullopt;
  }
  // RFC 3986 requires a path after an authority to be empty or start with "/", but Boost.URL 1.81
  // accepts "http://host:8o/" as port "8" and path "o/", and "http://127.0.0.1./" as an IPv4
  // host and path "./".
  const std::string_view path = parsed->encoded_path();
  if (parsed->has_authority() && !path.empty() && !path.starts_with('/')) {
    error = "the URL is not a valid absolute URL";
    return std::nullopt;
  }

  target_url url;
  url.text = std::string(text);
  // scheme_id() compares case-insensitively.
  switch (parsed->scheme_id()) {
    case boost::urls::scheme::https:
      url.tls = true;
      break;
    case boost::urls::scheme::http:
      url.tls = false;
      break;
    default:
      error = "the URL must use https or http";
      return std::nullopt;
  }

  if (!parsed->has_authority()) {
    error = "the URL has no host";
    return std::nullopt;
  }
  if (parsed->has_userinfo()) {
    error = "the URL must not contain user information";
    return std::nullopt;
  }
  if (parsed->has_fragment()) {
    error = "the URL must not contain a fragment";
    return std::nullopt;
  }
  if (!read_host(*parsed, url, error) || !read_port(*parsed, url, error)) {
    return std::nullopt;
  }

  // The path is empty or starts with "/" here, and an HTTP request target needs "/" at least.
  url.target = std::string(parsed->encoded_target());
  if (!url.target.starts_with('/')) {
    url.target.insert(0, "/");
  }
  return url;
}

}  // namespace jobgate::webhooks
