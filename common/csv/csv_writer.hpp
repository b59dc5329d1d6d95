#pragma once

#include <boost/system/error_code.hpp>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <initializer_list>
#include <span>
#include <string>
#include <string_view>

namespace jobgate::csv {

// Receives the writer's output in order. A returned error stops the writer: later output is
// dropped and csv_writer::error() keeps the first error.
using csv_sink = std::function<boost::system::error_code(std::string_view)>;

// Whether csv_writer neutralises cells that a spreadsheet would evaluate as formulas.
enum class formula_escape : std::uint8_t {
  off,
  single_quote,  // such a cell gets a leading ', so a spreadsheet shows it as text
};

// Returns whether a spreadsheet may evaluate `value` as a formula, because it starts with '=',
// '+', '-', '@', tab or CR.
bool starts_like_formula(std::string_view value);

// RFC 4180 writer with CRLF record ends. A field is quoted when it contains the delimiter, a
// quote, CR or LF, or starts or ends with a space or tab; quotes inside are doubled.
//
// Output is buffered and passed to the sink in pieces of about `buffer_bytes`. Call flush() at
// the end, because the destructor does not. A record with no fields, or one empty field, is an
// empty line, which csv_reader reads back as one empty field. Formula escaping is off unless
// set_formula_escape() turns it on. Not thread-safe.
class csv_writer {
 public:
  explicit csv_writer(csv_sink sink, char delimiter = ',', std::size_t buffer_bytes = 64 * 1024);

  // Applies to every field written afterwards, header cells included.
  void set_formula_escape(formula_escape mode) { formula_escape_ = mode; }

  void write_field(std::string_view value);
  void end_record();
  void write_record(std::span<const std::string_view> fields);
  void write_record(std::initializer_list<std::string_view> fields);

  // Passes buffered output to the sink. Returns the first error the sink returned, if any.
  boost::system::error_code flush();

  boost::system::error_code error() const { return error_; }

  // Returns whether `value` needs quotes with this delimiter.
  static bool needs_quotes(std::string_view value, char delimiter);

 private:
  csv_sink sink_;
  char delimiter_;
  std::size_t buffer_bytes_;
  std::string buffer_;
  bool record_has_field_ = false;
  formula_escape formula_escape_ = formula_escape::off;
  boost::system::error_code error_;
};

}  // namespace jobgate::csv
