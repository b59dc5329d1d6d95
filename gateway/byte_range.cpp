#include "gateway/byte_range.hpp"

#include <boost/beast/core/string.hpp>
#include <limits>
#include <optional>

#include "gateway/header_text.hpp"

namespace jobgate::gateway {
namespace {

constexpr std::uint64_t no_limit = std::numeric_limits<std::uint64_t>::max();

// Parses 1*DIGIT. A value beyond 64 bits saturates, because it is past the end of any file.
std::optional<std::uint64_t> parse_position(std::string_view digits) {
  if (digits.empty()) {
    return std::nullopt;
  }
  std::uint64_t value = 0;
  for (const char c : digits) {
    if (c < '0' || c > '9') {
      return std::nullopt;
    }
    const auto digit = static_cast<std::uint64_t>(c - '0');
    value = value > (no_limit - digit) / 10 ? no_limit : value * 10 + digit;
  }
  return value;
}

}  // namespace

range_selection select_byte_range(std::string_view header, std::uint64_t size) {
  const range_selection whole{};
  header = trim_optional_whitespace(header);
  const auto equals = header.find('=');
  if (equals == std::string_view::npos ||
      !boost::beast::iequals(trim_optional_whitespace(header.substr(0, equals)), "bytes")) {
    return whole;
  }
  const std::string_view spec = trim_optional_whitespace(header.substr(equals + 1));
  if (spec.find(',') != std::string_view::npos) {
    return whole;
  }
  const auto dash = spec.find('-');
  if (dash == std::string_view::npos) {
    return whole;
  }
  const std::string_view first_text = spec.substr(0, dash);
  const std::string_view last_text = spec.substr(dash + 1);
  const range_selection unsatisfiable{range_outcome::unsatisfiable, {}};

  // "-n": the last n bytes.
  if (first_text.empty()) {
    const auto suffix = parse_position(last_text);
    if (!suffix) {
      return whole;
    }
    if (*suffix == 0 || size == 0) {
      return unsatisfiable;
    }
    const std::uint64_t length = *suffix < size ? *suffix : size;
    return {range_outcome::partial, {size - length, size - 1}};
  }

  // "a-b" or "a-".
  const auto first = parse_position(first_text);
  if (!first) {
    return whole;
  }
  std::uint64_t last = no_limit;
  if (!last_text.empty()) {
    const auto parsed = parse_position(last_text);
    if (!parsed || *parsed < *first) {
      return whole;
    }
    last = *parsed;
  }
  if (*first >= size) {
    return unsatisfiable;
  }
  return {range_outcome::partial, {*first, last < size ? last : size - 1}};
}

}  // namespace jobgate::gateway
