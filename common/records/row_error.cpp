#include "common/records/row_error.hpp"

#include <array>

namespace jobgate::records {
namespace {

constexpr std::array<row_error_kind, 11> all_kinds = {
    row_error_kind::invalid_email,         row_error_kind::missing_required,
    row_error_kind::column_count_mismatch, row_error_kind::invalid_encoding,
    row_error_kind::invalid_phone,         row_error_kind::invalid_date,
    row_error_kind::invalid_domain,        row_error_kind::invalid_number,
    row_error_kind::invalid_option,        row_error_kind::unterminated_quote,
    row_error_kind::value_too_long,
};

}  // namespace

std::string_view to_string(row_error_kind kind) {
  switch (kind) {
    case row_error_kind::invalid_email:
      return "invalid_email";
    case row_error_kind::missing_required:
      return "missing_required";
    case row_error_kind::column_count_mismatch:
      return "column_count_mismatch";
    case row_error_kind::invalid_encoding:
      return "invalid_encoding";
    case row_error_kind::invalid_phone:
      return "invalid_phone";
    case row_error_kind::invalid_date:
      return "invalid_date";
    case row_error_kind::invalid_domain:
      return "invalid_domain";
    case row_error_kind::invalid_number:
      return "invalid_number";
    case row_error_kind::invalid_option:
      return "invalid_option";
    case row_error_kind::unterminated_quote:
      return "unterminated_quote";
    case row_error_kind::value_too_long:
      return "value_too_long";
  }
  return "unknown";
}

std::optional<row_error_kind> parse_row_error_kind(std::string_view name) {
  for (const row_error_kind kind : all_kinds) {
    if (to_string(kind) == name) {
      return kind;
    }
  }
  return std::nullopt;
}

}  // namespace jobgate::records
