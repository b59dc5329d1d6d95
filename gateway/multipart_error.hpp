#pragma once

#include <system_error>

namespace jobgate::gateway {

// Errors of multipart/form-data parsing. Zero is success, so every value here is a failure.
enum class multipart_error {
  invalid_boundary = 1,
  malformed_header,
  header_too_large,
  duplicate_header,
  invalid_content_disposition,
  unsupported_transfer_encoding,
  too_many_parts,
  malformed_delimiter,
  missing_closing_boundary,
};

// Returns the category of multipart_error, named "multipart".
const std::error_category& multipart_category() noexcept;

std::error_code make_error_code(multipart_error error) noexcept;

}  // namespace jobgate::gateway

template <>
struct std::is_error_code_enum<jobgate::gateway::multipart_error> : std::true_type {};
