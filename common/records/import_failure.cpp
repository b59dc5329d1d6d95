#include "common/records/import_failure.hpp"

#include <boost/system/system_error.hpp>
#include <boost/throw_exception.hpp>

namespace jobgate::records {
namespace {

class import_failure_category_impl final : public boost::system::error_category {
 public:
  const char* name() const noexcept override { return "jobgate.import"; }

  std::string message(int value) const override {
    switch (static_cast<import_failure_kind>(value)) {
      case import_failure_kind::invalid_request:
        return "the import request is invalid";
      case import_failure_kind::not_csv:
        return "the uploaded file is not a CSV file";
      case import_failure_kind::empty_file:
        return "the uploaded file has no header";
      case import_failure_kind::invalid_header:
        return "the header of the uploaded file is malformed";
      case import_failure_kind::duplicate_column:
        return "two header cells match one column mapping";
      case import_failure_kind::missing_column:
        return "a mapped column is missing from the header";
      case import_failure_kind::unknown_property:
        return "a column mapping names an unknown property";
      case import_failure_kind::duplicate_property:
        return "two column mappings name the same property";
      case import_failure_kind::no_unique_column:
        return "no column maps to the unique property";
    }
    return "unknown import failure";
  }
};

}  // namespace

std::string_view slug(import_failure_kind kind) {
  switch (kind) {
    case import_failure_kind::invalid_request:
      return "invalid-request";
    case import_failure_kind::not_csv:
      return "not-csv";
    case import_failure_kind::empty_file:
      return "empty-file";
    case import_failure_kind::invalid_header:
      return "invalid-header";
    case import_failure_kind::duplicate_column:
      return "duplicate-column";
    case import_failure_kind::missing_column:
      return "missing-column";
    case import_failure_kind::unknown_property:
      return "unknown-property";
    case import_failure_kind::duplicate_property:
      return "duplicate-property";
    case import_failure_kind::no_unique_column:
      return "no-unique-column";
  }
  return "unknown";
}

const boost::system::error_category& import_failure_category() {
  static const import_failure_category_impl category;
  return category;
}

void throw_exception_from_error(const import_failure& failure,
                                const boost::source_location& location) {
  boost::throw_exception(boost::system::system_error(make_error_code(failure.kind), failure.detail),
                         location);
}

}  // namespace jobgate::records
