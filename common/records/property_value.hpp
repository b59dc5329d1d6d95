#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "common/records/property_catalog.hpp"
#include "common/records/row_error.hpp"

namespace jobgate::records {

// Accepted spelling of date values; dates are always stored as YYYY-MM-DD.
enum class date_format : std::uint8_t { year_month_day, day_month_year, month_day_year };

// Returns the importRequest spelling: "YYYY-MM-DD", "DD/MM/YYYY" or "MM/DD/YYYY".
std::string_view to_string(date_format format);
std::optional<date_format> parse_date_format(std::string_view name);

enum class value_state : std::uint8_t { valid, empty, invalid };

// Outcome of normalise_property_value(). For an invalid value, `error` and `detail` give the
// reason.
struct value_check {
  value_state state = value_state::valid;
  row_error_kind error = row_error_kind::invalid_email;
  std::string_view detail;  // static lower-case phrase that does not repeat the value
};

// Validates one cell (valid UTF-8) for `property` and writes its stored form to `out`.
//
// - string: kept as written; a cell of only whitespace is empty.
// - Typed values are trimmed of ASCII whitespace first; nothing left means empty.
// - email: lower-cased. It needs exactly one @ and no whitespace, comma, semicolon or other
//   character that an address can only contain when quoted. The domain needs a dot, valid labels
//   and a top-level label of 2+ characters.
// - phone: kept as written; rejected only without digits or in scientific notation (4.42E+11).
// - domain: lower-cased, and stripped of scheme, path, query, fragment, port, a trailing dot and a
//   leading `www.`. What is left needs 2+ labels of letters, digits and inner hyphens (63 bytes
//   each at most), the last one 2+ bytes long and not all digits. Bytes above 0x7F pass as letters,
//   so IDN names are kept as written.
// - date: in `dates` format (one- or two-digit day and month in the slash forms), a real
//   calendar date from year 1 to 9999, stored as YYYY-MM-DD.
// - number: decimal with optional sign, fraction and exponent; stored without a plus sign,
//   leading zeros or trailing fraction zeros.
// - enumeration: one of the options, ignoring ASCII case, stored in the option's spelling.
//
// `out` is cleared first and contains the stored form only when the result is valid.
value_check normalise_property_value(const property_definition& property, std::string_view cell,
                                     date_format dates, std::string& out);

// Returns `text` without leading and trailing ASCII whitespace.
std::string_view trim_ascii_whitespace(std::string_view text);

// Returns whether `text` contains nothing but ASCII whitespace (space, tab, CR, LF, VT, FF).
bool is_blank(std::string_view text);

}  // namespace jobgate::records
