#include "common/csv/csv_writer.hpp"

#include <utility>

namespace jobgate::csv {

bool starts_like_formula(std::string_view value) {
  if (value.empty()) {
    return false;
  }
  const char first = value.front();
  return first == '=' || first == '+' || first == '-' || first == '@' || first == '\t' ||
         first == '\r';
}

csv_writer::csv_writer(csv_sink sink, char delimiter, std::size_t buffer_bytes)
    : sink_(std::move(sink)), delimiter_(delimiter), buffer_bytes_(buffer_bytes) {
  buffer_.reserve(buffer_bytes_);
}

bool csv_writer::needs_quotes(std::string_view value, char delimiter) {
  if (value.empty()) {
    return false;
  }
  const auto is_blank = [](char c) { return c == ' ' || c == '\t'; };
  if (is_blank(value.front()) || is_blank(value.back())) {
    return true;
  }
  for (const char c : value) {
    if (c == delimiter || c == '"' || c == '\r' || c == '\n') {
      return true;
    }
  }
  return false;
}

void csv_writer::write_field(std::string_view value) {
  if (record_has_field_) {
    buffer_ += delimiter_;
  }
  record_has_field_ = true;

  // The prefixed copy is made only for the rare cells that need it.
  std::string escaped;
  if (formula_escape_ == formula_escape::single_quote && starts_like_formula(value)) {
    escaped.reserve(value.size() + 1);
    escaped += '\'';
    escaped.append(value);
    value = escaped;
  }

  if (!needs_quotes(value, delimiter_)) {
    buffer_.append(value);
  } else {
    buffer_ += '"';
    for (const char c : value) {
      if (c == '"') {
        buffer_ += '"';
      }
      buffer_ += c;
    }
    buffer_ += '"';
  }
  if (buffer_.size() >= buffer_bytes_) {
    flush();
  }
}

void csv_writer::end_record() {
  buffer_ += "\r\n";
  record_has_field_ = false;
  if (buffer_.size() >= buffer_bytes_) {
    flush();
  }
}

void csv_writer::write_record(std::span<const std::string_view> fields) {
  for (const std::string_view field : fields) {
    write_field(field);
  }
  end_record();
}

void csv_writer::write_record(std::initializer_list<std::string_view> fields) {
  write_record(std::span<const std::string_view>(fields.begin(), fields.size()));
}

boost::system::error_code csv_writer::flush() {
  if (!error_ && !buffer_.empty()) {
    error_ = sink_(buffer_);
  }
  buffer_.clear();
  return error_;
}

}  // namespace jobgate::csv
