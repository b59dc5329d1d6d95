#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace jobgate::records {

// Reason an import rejected one row. to_string() gives the names the errors endpoint reports.
enum class row_error_kind : std::uint8_t {
  invalid_email,
  missing_required,
  column_count_mismatch,
  invalid_encoding,
  invalid_phone,
  invalid_date,
  invalid_domain,
  invalid_number,
  invalid_option,
  unterminated_quote,
  value_too_long,
};

// Returns the snake_case name of `kind`, for example "invalid_email".
std::string_view to_string(row_error_kind kind);

// Parses a name as to_string() writes it.
std::optional<row_error_kind> parse_row_error_kind(std::string_view name);

// The first error of a rejected row. Strings are valid UTF-8: invalid bytes appear as `\xFC`.
struct row_error {
  std::uint64_t row = 0;   // spreadsheet row, the header being row 1
  std::uint64_t line = 0;  // physical line where the record starts
  row_error_kind kind = row_error_kind::invalid_email;
  std::string column;  // header cell of the offending column, empty when the row as a whole is bad
  std::string property;  // property the column maps to, empty when none
  std::string value;     // the cell as written, cut to a bounded length
  std::string detail;    // a sentence saying what is wrong
  // Every cell of the row as decoded, for the CSV error report. A cell cut to the value bound
  // ends in U+2026, and cells past the row bound are left out. cells_cut is then true.
  std::vector<std::string> cells;
  bool cells_cut = false;
};

}  // namespace jobgate::records
