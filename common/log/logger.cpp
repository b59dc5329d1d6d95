#include "common/log/logger.hpp"

#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include <atomic>
#include <cstdio>
#include <memory>
#include <mutex>

#include "common/clock.hpp"

namespace jobgate::log {

namespace {

struct settings {
  std::string service = "jobgate";
  output_format format = output_format::text;
  std::atomic<level> min_level{level::info};
  std::shared_ptr<spdlog::logger> sink;
  std::once_flag sink_once;
};

settings& global() {
  static settings instance;
  return instance;
}

spdlog::logger& sink() {
  auto& state = global();
  std::call_once(state.sink_once, [&state] {
    state.sink = std::make_shared<spdlog::logger>(
        "jobgate", std::make_shared<spdlog::sinks::stderr_sink_mt>());
    state.sink->set_pattern("%v");
    state.sink->set_level(spdlog::level::trace);
    state.sink->flush_on(spdlog::level::trace);
  });
  return *state.sink;
}

std::string_view level_name(level severity) {
  switch (severity) {
    case level::debug:
      return "debug";
    case level::info:
      return "info";
    case level::warn:
      return "warn";
    case level::error:
      return "error";
  }
  return "info";
}

void append_json_string(std::string& out, std::string_view text) {
  out += '"';
  for (const char c : text) {
    const auto byte = static_cast<unsigned char>(c);
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (byte < 0x20) {
          char escaped[8];
          std::snprintf(escaped, sizeof escaped, "\\u%04x", byte);
          out += escaped;
        } else {
          out += c;
        }
    }
  }
  out += '"';
}

// Text values are quoted when they contain spaces, quotes or '=' so that lines stay parseable.
void append_text_value(std::string& out, std::string_view text) {
  const bool plain = !text.empty() && text.find_first_of(" \"=\t\r\n") == std::string_view::npos;
  if (plain) {
    out += text;
  } else {
    append_json_string(out, text);
  }
}

}  // namespace

void configure(std::string_view service, output_format format, level min_level) {
  auto& state = global();
  state.service = service;
  state.format = format;
  state.min_level = min_level;
}

level level_from_spdlog(int spdlog_level) {
  switch (spdlog_level) {
    case spdlog::level::trace:
    case spdlog::level::debug:
      return level::debug;
    case spdlog::level::info:
      return level::info;
    case spdlog::level::warn:
      return level::warn;
    default:
      return level::error;
  }
}

bool parse_level(std::string_view text, level& out) {
  for (const level candidate : {level::debug, level::info, level::warn, level::error}) {
    if (text == level_name(candidate)) {
      out = candidate;
      return true;
    }
  }
  return false;
}

logger logger::with(std::string_view key, std::string_view value) const {
  logger copy = *this;
  copy.context_.emplace_back(key, value);
  return copy;
}

void logger::debug(std::string_view message, std::initializer_list<field> fields) const {
  write(level::debug, message, fields);
}

void logger::info(std::string_view message, std::initializer_list<field> fields) const {
  write(level::info, message, fields);
}

void logger::warn(std::string_view message, std::initializer_list<field> fields) const {
  write(level::warn, message, fields);
}

void logger::error(std::string_view message, std::initializer_list<field> fields) const {
  write(level::error, message, fields);
}

void logger::write(level severity, std::string_view message,
                   std::initializer_list<field> fields) const {
  auto& state = global();
  if (severity < state.min_level.load(std::memory_order_relaxed)) {
    return;
  }

  std::string line;
  line.reserve(160);
  if (state.format == output_format::json) {
    line += "{\"ts\":\"" + format_timestamp(now_millis()) + "\",\"level\":\"";
    line += level_name(severity);
    line += "\",\"service\":";
    append_json_string(line, state.service);
    line += ",\"msg\":";
    append_json_string(line, message);
    const auto append_field = [&line](std::string_view key, std::string_view value, bool numeric) {
      line += ',';
      append_json_string(line, key);
      line += ':';
      if (numeric) {
        line += value;
      } else {
        append_json_string(line, value);
      }
    };
    for (const auto& [key, value] : context_) {
      append_field(key, value, false);
    }
    for (const auto& item : fields) {
      append_field(item.key, item.value, item.numeric);
    }
    line += '}';
  } else {
    line += format_timestamp(now_millis());
    line += ' ';
    line += level_name(severity);
    line += ' ';
    line += message;
    const auto append_field = [&line](std::string_view key, std::string_view value) {
      line += ' ';
      line += key;
      line += '=';
      append_text_value(line, value);
    };
    for (const auto& [key, value] : context_) {
      append_field(key, value);
    }
    for (const auto& item : fields) {
      append_field(item.key, item.value);
    }
  }
  sink().info(line);
}

}  // namespace jobgate::log
