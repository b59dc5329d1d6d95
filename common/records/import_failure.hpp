#pragma once

#include <boost/assert/source_location.hpp>
#include <boost/system/error_category.hpp>
#include <boost/system/error_code.hpp>
#include <boost/system/is_error_code_enum.hpp>
#include <string>
#include <string_view>
#include <type_traits>

namespace jobgate::records {

// Reason an import job fails as a whole. Each kind has a stable slug for problem documents.
enum class import_failure_kind {
  invalid_request = 1,  // "invalid-request": the request contradicts itself or the catalog
  not_csv,              // "not-csv": NUL bytes in the first block, or a ZIP, gzip, PDF or OLE2 file
  empty_file,           // "empty-file": no header record, or a blank first line
  invalid_header,       // "invalid-header": the header record itself is malformed
  duplicate_column,     // "duplicate-column": two header cells match one mapping
  missing_column,       // "missing-column": a mapped column is not in the header
  unknown_property,     // "unknown-property": a mapping names a property the object type lacks
  duplicate_property,   // "duplicate-property": two mappings name one property
  no_unique_column,     // "no-unique-column": nothing maps to the unique property
};

// Returns the stable slug of `kind`, for example "missing-column".
std::string_view slug(import_failure_kind kind);

// The error category of import_failure_kind, named "jobgate.import".
const boost::system::error_category& import_failure_category();

inline boost::system::error_code make_error_code(import_failure_kind kind) {
  return boost::system::error_code(static_cast<int>(kind), import_failure_category());
}

// A job-level import failure: what failed, the name involved and a sentence for people.
struct import_failure {
  import_failure_kind kind = import_failure_kind::invalid_request;
  std::string subject;  // the offending column or property name, empty when none
  std::string detail;

  std::string_view slug() const { return records::slug(kind); }
};

// Lets boost::system::result<T, import_failure>::value() throw; found by argument-dependent lookup.
[[noreturn]] void throw_exception_from_error(const import_failure& failure,
                                             const boost::source_location& location);

}  // namespace jobgate::records

template <>
struct boost::system::is_error_code_enum<jobgate::records::import_failure_kind> : std::true_type {};
