#pragma once

#include <cmath>
#include <initializer_list>
#include <memory>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>

namespace jobgate::log {

enum class output_format { text, json };
enum class level { debug, info, warn, error };

// One key=value fact on a log line. A field refers to its text value without copying it, so it must
// not outlive the logging call it is written in, as in logger.info("msg", {{"key", value}}).
struct field {
  field(std::string_view key_text, std::string_view text) : key(key_text), text_(text) {}
  field(std::string_view key_text, const std::string& text) : key(key_text), text_(text) {}
  field(std::string_view key_text, const char* text) : key(key_text), text_(text) {}
  // A number is written without quotes in JSON lines, unless it is a NaN or an infinity.
  template <typename Number>
  requires std::is_arithmetic_v<Number> field(std::string_view key_text, Number number)
      : key(key_text),
        numeric(is_finite(number)),
        number_(std::to_string(number)),
        is_number_(true) {}

  std::string_view value() const { return is_number_ ? std::string_view(number_) : text_; }

  std::string_view key;
  bool numeric = false;

 private:
  template <typename Number>
  static bool is_finite(Number number) {
    if constexpr (std::is_floating_point_v<Number>) {
      return std::isfinite(number);
    } else {
      return true;
    }
  }

  std::string_view text_;
  std::string number_;
  bool is_number_ = false;
};

// Sets up the process-wide sink once at start-up: lines go to stderr as JSON objects or as text
// with key=value fields. Lines below min_level are dropped.
void configure(std::string_view service, output_format format, level min_level);

// Maps a spdlog level number (trace 0 to critical 5) onto ours; trace counts as debug.
level level_from_spdlog(int spdlog_level);

// Parses "debug", "info", "warn" or "error".
bool parse_level(std::string_view text, level& out);

// A logger with fixed context fields (connection, request id, job id, tenant) that every line it
// writes carries. Loggers share their fields: a copy costs a reference count, and with() one
// allocation whatever the number of fields before it. Thread-safe.
class logger {
 public:
  logger() = default;

  // Returns a copy with one more context field.
  logger with(std::string_view key, std::string_view value) const;

  void debug(std::string_view message, std::initializer_list<field> fields = {}) const;
  void info(std::string_view message, std::initializer_list<field> fields = {}) const;
  void warn(std::string_view message, std::initializer_list<field> fields = {}) const;
  void error(std::string_view message, std::initializer_list<field> fields = {}) const;

  void write(level severity, std::string_view message, std::initializer_list<field> fields) const;

 private:
  // One context field and the fields added before it, newest first. A short key and value are
  // kept inside the node, so with() allocates once.
  class context_field {
   public:
    context_field(std::string_view key, std::string_view value,
                  std::shared_ptr<const context_field> earlier_fields);
    context_field(const context_field&) = delete;
    context_field& operator=(const context_field&) = delete;

    std::string_view key() const { return {text(), key_size_}; }
    std::string_view value() const { return {text() + key_size_, value_size_}; }

    std::shared_ptr<const context_field> earlier;

   private:
    const char* text() const { return spilled_.empty() ? inline_text_ : spilled_.data(); }

    std::size_t key_size_;
    std::size_t value_size_;
    char inline_text_[48];
    std::string spilled_;
  };

  std::shared_ptr<const context_field> context_;
};

}  // namespace jobgate::log
