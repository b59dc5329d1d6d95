#include "common/tracing/trace_context.hpp"

#include <algorithm>

#include "common/crypto/random.hpp"

namespace jobgate::tracing {

namespace {

constexpr std::size_t version_00_length = 55;  // "00-" + 32 + "-" + 16 + "-" + 2

bool is_lower_hex(std::string_view text) {
  return std::all_of(text.begin(), text.end(),
                     [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
}

bool is_all_zero(std::string_view text) {
  return std::all_of(text.begin(), text.end(), [](char c) { return c == '0'; });
}

}  // namespace

std::optional<trace_context> trace_context::parse(std::string_view header) {
  if (header.size() < version_00_length) {
    return std::nullopt;
  }
  const std::string_view version = header.substr(0, 2);
  if (!is_lower_hex(version) || version == "ff") {
    return std::nullopt;
  }
  // Version 00 has exactly four fields; a later version keeps them first and may add more.
  if (version == "00" ? header.size() != version_00_length
                      : header.size() > version_00_length && header[version_00_length] != '-') {
    return std::nullopt;
  }
  if (header[2] != '-' || header[35] != '-' || header[52] != '-') {
    return std::nullopt;
  }
  const std::string_view trace_id = header.substr(3, 32);
  const std::string_view parent_id = header.substr(36, 16);
  const std::string_view flags = header.substr(53, 2);
  if (!is_lower_hex(trace_id) || !is_lower_hex(parent_id) || !is_lower_hex(flags) ||
      is_all_zero(trace_id) || is_all_zero(parent_id)) {
    return std::nullopt;
  }
  return trace_context(std::string(trace_id), std::string(parent_id), std::string(flags));
}

trace_context trace_context::generate() {
  return trace_context(crypto::random_hex(16), crypto::random_hex(8), "00");
}

trace_context trace_context::child() const {
  return trace_context(trace_id_, crypto::random_hex(8), flags_);
}

std::string trace_context::header() const {
  return "00-" + trace_id_ + "-" + parent_id_ + "-" + flags_;
}

trace_context continue_or_start(std::string_view header) {
  if (auto incoming = trace_context::parse(header)) {
    return incoming->child();
  }
  return trace_context::generate();
}

}  // namespace jobgate::tracing
