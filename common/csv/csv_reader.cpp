#include "common/csv/csv_reader.hpp"

#include <algorithm>
#include <stdexcept>

namespace jobgate::csv {

std::string_view to_string(csv_error error) {
  switch (error) {
    case csv_error::none:
      return "none";
    case csv_error::unterminated_quote:
      return "unterminated_quote";
    case csv_error::field_too_large:
      return "field_too_large";
    case csv_error::record_too_large:
      return "record_too_large";
    case csv_error::too_many_fields:
      return "too_many_fields";
  }
  return "unknown";
}

csv_reader::csv_reader(const csv_options& options)
    : options_(options),
      line_(options.start_line),
      end_offset_(options.start_offset),
      chunk_{{}, {}, options.start_offset} {
  if (options.delimiter == '"' || options.delimiter == '\r' || options.delimiter == '\n') {
    throw std::invalid_argument("csv_reader: the delimiter must not be a quote, CR or LF");
  }
  const auto index = [](char c) { return static_cast<unsigned char>(c); };
  unquoted_stop_[index(options.delimiter)] = true;
  unquoted_stop_[index('\r')] = true;
  unquoted_stop_[index('\n')] = true;
  quoted_stop_[index('"')] = true;
  quoted_stop_[index('\r')] = true;
  quoted_stop_[index('\n')] = true;
}

void csv_reader::feed_text(const decoded_text& chunk, record_sink sink) {
  chunk_ = chunk;
  const char* data = chunk.text.data();
  const std::size_t size = chunk.text.size();
  std::size_t pos = 0;

  // A CRLF inside quotes split across chunks is one line end.
  if (quoted_cr_ && size > 0) {
    quoted_cr_ = false;
    if (data[0] == '\n') {
      append(data, 1);
      pos = 1;
    }
  }

  while (pos < size) {
    switch (state_) {
      case parse_state::after_cr:
        if (data[pos] == '\n') {
          ++pos;
        }
        emit(sink, offset_at(pos));
        break;

      case parse_state::record_start:
        begin_record(pos);
        [[fallthrough]];

      case parse_state::field_start: {
        const char c = data[pos];
        if (c == '"') {
          field_quoted_ = true;
          ++pos;
          state_ = parse_state::quoted;
        } else if (c == options_.delimiter) {
          end_field();
          ++pos;
          begin_field(pos);
        } else if (c == '\n' || c == '\r') {
          end_field();
          pos = end_line(data, size, pos, sink);
        } else {
          state_ = parse_state::unquoted;
        }
        break;
      }

      case parse_state::unquoted: {
        std::size_t run_end = pos;
        while (run_end < size && !unquoted_stop_[static_cast<unsigned char>(data[run_end])]) {
          ++run_end;
        }
        append(data + pos, run_end - pos);
        pos = run_end;
        if (pos == size) {
          break;
        }
        end_field();
        if (data[pos] == options_.delimiter) {
          ++pos;
          state_ = parse_state::field_start;
          begin_field(pos);
        } else {
          pos = end_line(data, size, pos, sink);
        }
        break;
      }

      case parse_state::quoted: {
        std::size_t run_end = pos;
        while (run_end < size && !quoted_stop_[static_cast<unsigned char>(data[run_end])]) {
          ++run_end;
        }
        append(data + pos, run_end - pos);
        pos = run_end;
        if (pos == size) {
          break;
        }
        const char c = data[pos];
        if (c == '"') {
          ++pos;
          state_ = parse_state::quote_in_quoted;
          break;
        }
        // A line end inside quotes is data, kept byte for byte, and still counts as a line.
        append(data + pos, 1);
        ++line_;
        ++pos;
        if (c == '\r') {
          if (pos == size) {
            quoted_cr_ = true;
          } else if (data[pos] == '\n') {
            append(data + pos, 1);
            ++pos;
          }
        }
        break;
      }

      case parse_state::quote_in_quoted: {
        const char c = data[pos];
        if (c == '"') {
          append(data + pos, 1);
          ++pos;
          state_ = parse_state::quoted;
        } else if (c == options_.delimiter) {
          end_field();
          ++pos;
          state_ = parse_state::field_start;
          begin_field(pos);
        } else if (c == '\n' || c == '\r') {
          end_field();
          pos = end_line(data, size, pos, sink);
        } else {
          state_ = parse_state::unquoted;  // text after the closing quote is kept as data
        }
        break;
      }
    }
  }
  end_offset_ = offset_at(size);
}

void csv_reader::finish_text(record_sink sink) {
  switch (state_) {
    case parse_state::record_start:
      break;
    case parse_state::after_cr:
      emit(sink, end_offset_);
      break;
    case parse_state::quoted:
      record_.error_ = csv_error::unterminated_quote;
      record_.error_field_ = record_.fields_.size();
      end_field();
      emit(sink, end_offset_);
      break;
    case parse_state::field_start:
    case parse_state::unquoted:
    case parse_state::quote_in_quoted:
      end_field();
      emit(sink, end_offset_);
      break;
  }
  quoted_cr_ = false;
}

std::size_t csv_reader::end_line(const char* data, std::size_t size, std::size_t pos,
                                 record_sink sink) {
  ++line_;
  if (data[pos] == '\n') {
    emit(sink, offset_at(pos + 1));
    return pos + 1;
  }

  // CR: the record ends after an LF that follows, which may be in the next chunk.
  if (pos + 1 == size) {
    state_ = parse_state::after_cr;
    return pos + 1;
  }
  const std::size_t end = data[pos + 1] == '\n' ? pos + 2 : pos + 1;
  emit(sink, offset_at(end));
  return end;
}

void csv_reader::begin_record(std::size_t pos) {
  record_.line_ = line_;
  record_.start_offset_ = offset_at(pos);
  state_ = parse_state::field_start;
  begin_field(pos);
}

void csv_reader::begin_field(std::size_t pos) {
  field_begin_ = record_.content_.size();
  field_offset_ = offset_at(pos);
  field_quoted_ = false;
}

void csv_reader::end_field() {
  if (!options_.keep_fields) {
    return;
  }
  if (record_.fields_.size() >= options_.max_fields) {
    set_error(csv_error::too_many_fields, options_.max_fields);
    return;
  }
  record_.fields_.push_back(
      csv_record::field{field_begin_, record_.content_.size(), field_offset_, field_quoted_});
}

void csv_reader::append(const char* data, std::size_t size) {
  if (!options_.keep_fields || size == 0) {
    return;
  }
  std::string& content = record_.content_;
  const std::size_t field_size = content.size() - field_begin_;
  const std::size_t field_room =
      options_.max_field_bytes > field_size ? options_.max_field_bytes - field_size : 0;
  const std::size_t record_room =
      options_.max_record_bytes > content.size() ? options_.max_record_bytes - content.size() : 0;
  std::size_t take = size;
  if (take > field_room || take > record_room) {
    set_error(field_room <= record_room ? csv_error::field_too_large : csv_error::record_too_large,
              record_.fields_.size());
    take = std::min(field_room, record_room);
  }
  content.append(data, take);
}

void csv_reader::set_error(csv_error error, std::size_t field) {
  if (record_.error_ == csv_error::none) {
    record_.error_ = error;
    record_.error_field_ = field;
  }
}

void csv_reader::emit(record_sink sink, std::uint64_t end_offset) {
  record_.end_offset_ = end_offset;
  record_.next_line_ = line_;
  state_ = parse_state::record_start;
  ++records_;
  sink.call(sink.context, record_);

  record_.content_.clear();
  record_.fields_.clear();
  record_.error_ = csv_error::none;
  record_.error_field_ = 0;
}

}  // namespace jobgate::csv
