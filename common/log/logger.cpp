#include "common/log/logger.hpp"

#include <spdlog/sinks/base_sink.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <memory>
#include <mutex>
#include <stop_token>
#include <thread>

#include "common/clock.hpp"

namespace jobgate::log {

namespace {

// Writes lines to standard error in batches. A line goes out at once when the previous write is
// older than flush_interval, and otherwise with the next batch: when buffer_limit bytes are
// waiting, at a warning or error, or at the latest flush_interval later through the flush
// thread. Under load that turns a write system call per line into one per batch, while a quiet
// process still shows each line at once. Lines waiting when the process is killed are lost.
class batching_stderr_sink final : public spdlog::sinks::base_sink<std::mutex> {
 public:
  static constexpr auto flush_interval = std::chrono::milliseconds(50);
  static constexpr std::size_t buffer_limit = 32 * 1024;

  batching_stderr_sink()
      : flusher_([this](std::stop_token stop) {
          std::mutex idle;
          std::unique_lock lock(idle);
          while (!stop.stop_requested()) {
            wake_.wait_for(lock, stop, flush_interval, [] { return false; });
            flush();
          }
        }) {}

  ~batching_stderr_sink() override {
    flusher_.request_stop();
    flusher_.join();
    flush();
  }

 protected:
  void sink_it_(const spdlog::details::log_msg& message) override {
    pending_.append(message.payload.data(), message.payload.size());
    pending_ += '\n';
    const auto now = std::chrono::steady_clock::now();
    if (pending_.size() >= buffer_limit || message.level >= spdlog::level::warn ||
        now - last_write_ >= flush_interval) {
      write_pending(now);
    }
  }

  void flush_() override { write_pending(std::chrono::steady_clock::now()); }

 private:
  void write_pending(std::chrono::steady_clock::time_point now) {
    last_write_ = now;
    std::size_t written = 0;
    while (written < pending_.size()) {
      const ssize_t count =
          ::write(STDERR_FILENO, pending_.data() + written, pending_.size() - written);
      if (count < 0 && errno == EINTR) {
        continue;
      }
      if (count <= 0) {
        // Standard error is closed or broken: the lines are dropped rather than retried.
        break;
      }
      written += static_cast<std::size_t>(count);
    }
    pending_.clear();
  }

  std::string pending_;
  std::chrono::steady_clock::time_point last_write_{};
  std::condition_variable_any wake_;
  std::jthread flusher_;
};

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
    state.sink =
        std::make_shared<spdlog::logger>("jobgate", std::make_shared<batching_stderr_sink>());
    state.sink->set_pattern("%v");
    state.sink->set_level(spdlog::level::trace);
    state.sink->flush_on(spdlog::level::warn);
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
  static constexpr auto quoted_bytes = [] {
    std::array<bool, 256> table{};
    for (const unsigned char c : {' ', '"', '=', '\t', '\r', '\n'}) {
      table[c] = true;
    }
    return table;
  }();
  const bool plain = !text.empty() && std::none_of(text.begin(), text.end(), [](char c) {
    return quoted_bytes[static_cast<unsigned char>(c)];
  });
  if (plain) {
    out += text;
  } else {
    append_json_string(out, text);
  }
}

// Calls visit for each field of a context chain, oldest first.
template <typename Field, typename Visit>
void for_each_context_field(const Field* newest, Visit&& visit) {
  if (newest == nullptr) {
    return;
  }
  for_each_context_field(newest->earlier.get(), visit);
  visit(*newest);
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

logger::context_field::context_field(std::string_view key, std::string_view value,
                                     std::shared_ptr<const context_field> earlier_fields)
    : earlier(std::move(earlier_fields)), key_size_(key.size()), value_size_(value.size()) {
  if (key.size() + value.size() <= sizeof inline_text_) {
    std::copy(key.begin(), key.end(), inline_text_);
    std::copy(value.begin(), value.end(), inline_text_ + key.size());
  } else {
    spilled_.reserve(key.size() + value.size());
    spilled_.append(key).append(value);
  }
}

logger logger::with(std::string_view key, std::string_view value) const {
  logger copy;
  copy.context_ = std::make_shared<const context_field>(key, value, context_);
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
    for_each_context_field(context_.get(), [&append_field](const auto& item) {
      append_field(item.key(), item.value(), false);
    });
    for (const auto& item : fields) {
      append_field(item.key, item.value(), item.numeric);
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
    for_each_context_field(context_.get(), [&append_field](const auto& item) {
      append_field(item.key(), item.value());
    });
    for (const auto& item : fields) {
      append_field(item.key, item.value());
    }
  }
  sink().info(line);
}

}  // namespace jobgate::log
