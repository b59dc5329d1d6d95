#include "cli/sse_parser.hpp"

namespace jobgate::cli {

std::vector<sse_event> sse_parser::feed(std::string_view bytes) {
  std::vector<sse_event> events;
  for (const char c : bytes) {
    if (after_cr_ && c == '\n') {
      after_cr_ = false;
      continue;
    }
    after_cr_ = c == '\r';
    if (c == '\r' || c == '\n') {
      process_line(line_, events);
      line_.clear();
    } else {
      line_ += c;
    }
  }
  return events;
}

void sse_parser::process_line(std::string_view line, std::vector<sse_event>& events) {
  if (line.empty()) {
    if (has_data_) {
      events.push_back(std::move(pending_));
    }
    pending_ = sse_event{};
    has_data_ = false;
    return;
  }
  if (line.front() == ':') {
    return;
  }

  const auto colon = line.find(':');
  const std::string_view field = line.substr(0, colon);
  std::string_view value;
  if (colon != std::string_view::npos) {
    value = line.substr(colon + 1);
    if (value.starts_with(' ')) {
      value.remove_prefix(1);
    }
  }

  if (field == "event") {
    pending_.type = value.empty() ? "message" : std::string(value);
  } else if (field == "data") {
    if (has_data_) {
      pending_.data += '\n';
    }
    pending_.data += value;
    has_data_ = true;
  } else if (field == "id") {
    pending_.id = std::string(value);
  }
  // `retry` and unknown fields change nothing that this client uses.
}

}  // namespace jobgate::cli
