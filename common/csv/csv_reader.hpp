#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include "common/csv/text_decoder.hpp"

namespace jobgate::csv {

// Settings of a csv_reader. The limits bound the memory one record can take.
struct csv_options {
  char delimiter = ',';
  std::size_t max_field_bytes = std::size_t{1} << 20;   // content bytes of one field
  std::size_t max_record_bytes = std::size_t{1} << 20;  // content bytes of all fields of a record
  std::size_t max_fields = 16384;                       // fields in one record
  // False to count records without storing their fields (csv_record::size() is then 0).
  bool keep_fields = true;
  std::uint64_t start_offset = 0;  // file offset of the first byte fed
  std::uint64_t start_line = 1;    // physical line of the first byte fed
};

// Error in one record. The reader still finds where the record ends, so the next record is read
// normally.
enum class csv_error : std::uint8_t {
  none,
  unterminated_quote,  // a quoted field is still open at the end of the input
  field_too_large,     // content beyond max_field_bytes was dropped
  record_too_large,    // content beyond max_record_bytes was dropped
  too_many_fields,     // fields beyond max_fields were dropped
};

// Returns the snake_case name of `error`.
std::string_view to_string(csv_error error);

// One record as the reader emits it. The reader owns and reuses it: the views it returns are valid
// only inside the handler call.
class csv_record {
 public:
  std::size_t size() const { return fields_.size(); }

  // Content of a field: quotes removed, doubled quotes turned into one, line ends kept as written.
  std::string_view operator[](std::size_t index) const {
    const field& f = fields_[index];
    return std::string_view(content_).substr(f.begin, f.end - f.begin);
  }

  // File offset of the first byte of a field (its opening quote when quoted).
  std::uint64_t field_offset(std::size_t index) const { return fields_[index].offset; }
  bool field_quoted(std::size_t index) const { return fields_[index].quoted; }

  std::uint64_t line() const { return line_; }            // physical line where it starts, from 1
  std::uint64_t next_line() const { return next_line_; }  // line where the next record starts
  std::uint64_t start_offset() const { return start_offset_; }
  std::uint64_t end_offset() const { return end_offset_; }  // after its line end, if any

  csv_error error() const { return error_; }
  // Index of the field the error concerns (for too_many_fields, max_fields).
  std::size_t error_field() const { return error_field_; }

 private:
  friend class csv_reader;

  struct field {
    std::size_t begin;
    std::size_t end;
    std::uint64_t offset;
    bool quoted;
  };

  std::string content_;
  std::vector<field> fields_;
  std::uint64_t line_ = 0;
  std::uint64_t next_line_ = 0;
  std::uint64_t start_offset_ = 0;
  std::uint64_t end_offset_ = 0;
  csv_error error_ = csv_error::none;
  std::size_t error_field_ = 0;
};

// Streaming CSV parser (RFC 4180 plus what real files contain), fed chunks of any size.
//
// - Records end at LF, CRLF or a lone CR; a final line end does not start another record, and an
//   empty line is a record with one empty field.
// - A field that starts with a quote is quoted: delimiters and line ends inside it are data, and
//   a doubled quote is one quote. Text after the closing quote is appended to the field as written,
//   as Python's csv module does (`"ab"cd` reads as `abcd`).
// - A quote anywhere else in a field is literal data (`27" Displays`).
// - Line numbers count every line end, including those inside quoted fields.
//
// Chunk boundaries never change the output. Memory stays within the limits of csv_options plus the
// chunk itself. Not thread-safe.
class csv_reader {
 public:
  // Throws std::invalid_argument if the delimiter is a quote, CR or LF.
  explicit csv_reader(const csv_options& options = {});

  // Parses `chunk`, calling on_record(const csv_record&) for every record that ends inside it.
  // File offsets continue from the previous chunk.
  template <class Handler>
  void feed(std::string_view chunk, Handler&& on_record) {
    feed_text(decoded_text{chunk, {}, end_offset_}, make_sink(on_record));
  }

  // Parses decoded text, taking file offsets from its map.
  template <class Handler>
  void feed(const decoded_text& chunk, Handler&& on_record) {
    feed_text(chunk, make_sink(on_record));
  }

  // Ends the input, emitting the last record if it has no line end. An open quoted field makes that
  // record's error unterminated_quote.
  template <class Handler>
  void finish(Handler&& on_record) {
    finish_text(make_sink(on_record));
  }

  std::uint64_t records() const { return records_; }  // records emitted so far
  std::uint64_t line() const { return line_; }        // physical line of the next byte
  std::uint64_t end_offset() const { return end_offset_; }

 private:
  struct record_sink {
    void* context;
    void (*call)(void*, const csv_record&);
  };

  template <class Handler>
  static record_sink make_sink(Handler& on_record) {
    using handler_type = std::remove_reference_t<Handler>;
    return record_sink{const_cast<void*>(static_cast<const void*>(&on_record)),
                       [](void* context, const csv_record& record) {
                         (*static_cast<handler_type*>(context))(record);
                       }};
  }

  enum class parse_state : std::uint8_t {
    record_start,     // no byte of the next record seen yet
    field_start,      // at the first byte of a field
    unquoted,         // inside an unquoted field, or after the closing quote of a quoted one
    quoted,           // inside a quoted field
    quote_in_quoted,  // after a quote inside a quoted field: closing or the first of a pair
    after_cr,         // a record ended with CR; an LF right after it belongs to the same line end
  };

  void feed_text(const decoded_text& chunk, record_sink sink);
  void finish_text(record_sink sink);
  std::size_t end_line(const char* data, std::size_t size, std::size_t pos, record_sink sink);
  void begin_record(std::size_t pos);
  void begin_field(std::size_t pos);
  void end_field();
  void append(const char* data, std::size_t size);
  void set_error(csv_error error, std::size_t field);
  void emit(record_sink sink, std::uint64_t end_offset);
  std::uint64_t offset_at(std::size_t pos) const { return chunk_.offset_at(pos); }

  csv_options options_;
  std::array<bool, 256> unquoted_stop_{};
  std::array<bool, 256> quoted_stop_{};

  parse_state state_ = parse_state::record_start;
  csv_record record_;
  std::size_t field_begin_ = 0;
  std::uint64_t field_offset_ = 0;
  bool field_quoted_ = false;
  bool quoted_cr_ = false;  // a quoted field's CR ended the previous chunk
  std::uint64_t line_;
  std::uint64_t end_offset_;
  std::uint64_t records_ = 0;
  decoded_text chunk_;
};

}  // namespace jobgate::csv
