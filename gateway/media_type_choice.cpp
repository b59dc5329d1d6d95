#include "gateway/media_type_choice.hpp"

#include <boost/beast/core/string.hpp>
#include <optional>
#include <vector>

#include "gateway/header_text.hpp"

namespace jobgate::gateway {
namespace {

struct media_range {
  std::string_view type;     // "*" for any
  std::string_view subtype;  // "*" for any
  int quality = 1000;        // thousandths, as the q parameter allows three decimals
};

// Parses a qvalue ("0", "0.5", "1.000") into thousandths.
std::optional<int> parse_quality(std::string_view text) {
  if (text.empty() || (text[0] != '0' && text[0] != '1')) {
    return std::nullopt;
  }
  int whole = text[0] - '0';
  int thousandths = 0;
  if (text.size() > 1) {
    if (text[1] != '.' || text.size() > 5) {
      return std::nullopt;
    }
    int scale = 100;
    for (const char c : text.substr(2)) {
      if (c < '0' || c > '9') {
        return std::nullopt;
      }
      thousandths += (c - '0') * scale;
      scale /= 10;
    }
  }
  const int quality = whole * 1000 + thousandths;
  return quality <= 1000 ? std::optional<int>(quality) : std::nullopt;
}

std::optional<media_range> parse_media_range(std::string_view member) {
  const auto semicolon = member.find(';');
  const std::string_view type_text = trim_optional_whitespace(member.substr(0, semicolon));
  const auto slash = type_text.find('/');
  if (slash == std::string_view::npos || slash == 0 || slash + 1 == type_text.size()) {
    return std::nullopt;
  }
  media_range range{type_text.substr(0, slash), type_text.substr(slash + 1)};
  if (range.type == "*" && range.subtype != "*") {
    return std::nullopt;
  }

  std::string_view parameters =
      semicolon == std::string_view::npos ? std::string_view{} : member.substr(semicolon + 1);
  while (!parameters.empty()) {
    const auto next = parameters.find(';');
    const std::string_view parameter = trim_optional_whitespace(parameters.substr(0, next));
    parameters = next == std::string_view::npos ? std::string_view{} : parameters.substr(next + 1);
    const auto equals = parameter.find('=');
    if (equals != std::string_view::npos &&
        boost::beast::iequals(trim_optional_whitespace(parameter.substr(0, equals)), "q")) {
      const auto quality = parse_quality(trim_optional_whitespace(parameter.substr(equals + 1)));
      if (!quality) {
        return std::nullopt;
      }
      range.quality = *quality;
    }
  }
  return range;
}

// Specificity of `range` for `type_name`: 3 for an exact match, 2 for "type/*", 1 for "*/*", and
// 0 when it does not match.
int match_specificity(const media_range& range, std::string_view type_name) {
  const auto slash = type_name.find('/');
  const std::string_view type = type_name.substr(0, slash);
  const std::string_view subtype = type_name.substr(slash + 1);
  if (range.type == "*") {
    return 1;
  }
  if (!boost::beast::iequals(range.type, type)) {
    return 0;
  }
  if (range.subtype == "*") {
    return 2;
  }
  return boost::beast::iequals(range.subtype, subtype) ? 3 : 0;
}

}  // namespace

std::string_view choose_media_type(std::string_view accept,
                                   std::span<const std::string_view> offered) {
  if (offered.empty()) {
    return {};
  }
  if (trim_optional_whitespace(accept).empty()) {
    return offered.front();
  }

  std::vector<media_range> ranges;
  while (!accept.empty()) {
    const auto comma = accept.find(',');
    const std::string_view member = trim_optional_whitespace(accept.substr(0, comma));
    accept = comma == std::string_view::npos ? std::string_view{} : accept.substr(comma + 1);
    if (auto range = parse_media_range(member)) {
      ranges.push_back(*range);
    }
  }

  std::string_view best;
  int best_quality = 0;
  int best_specificity = 0;
  for (const std::string_view type_name : offered) {
    int specificity = 0;
    int quality = 0;
    for (const media_range& range : ranges) {
      const int match = match_specificity(range, type_name);
      if (match > specificity) {
        specificity = match;
        quality = range.quality;
      }
    }
    if (quality > best_quality ||
        (quality == best_quality && quality > 0 && specificity > best_specificity)) {
      best = type_name;
      best_quality = quality;
      best_specificity = specificity;
    }
  }
  return best;
}

}  // namespace jobgate::gateway
