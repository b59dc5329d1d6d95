#pragma once

#include <boost/system/result.hpp>
#include <cstddef>
#include <span>
#include <string>
#include <vector>

#include "common/records/import_failure.hpp"
#include "common/records/import_request.hpp"
#include "common/records/property_catalog.hpp"

namespace jobgate::records {

// One header column bound to a property.
struct column_binding {
  std::size_t column = 0;   // index of the column in the header
  std::string column_name;  // the header cell, trimmed
  const property_definition* property = nullptr;
};

// Assignment of a file's header columns to properties.
class column_mapping {
 public:
  // Binds the header cells. With `requested` mappings, a cell matches a mapping's columnName when
  // both are equal after trimming ASCII whitespace and ignoring ASCII case. Without mappings, a
  // cell binds to the property whose name or label it equals, ignoring ASCII case and whitespace.
  // Header cells must be valid UTF-8 (escape invalid bytes first). The properties bound are
  // pointers into `object_type`, which must outlive the result.
  //
  // Failures, checked in this order: duplicate-column (two cells match one mapping, or in the
  // automatic mode one property), missing-column, unknown-property, duplicate-property (two
  // mappings name one property), no-unique-column. Each names the column or property involved.
  static boost::system::result<column_mapping, import_failure> resolve(
      const object_type_definition& object_type, std::span<const std::string> header,
      std::span<const column_mapping_request> requested);

  // Bindings in ascending column order; a column bound to two properties appears twice.
  const std::vector<column_binding>& bindings() const { return bindings_; }
  // Trimmed header cells that no property takes, in header order.
  const std::vector<std::string>& unmapped_columns() const { return unmapped_columns_; }
  // Trimmed header cells, all of them.
  const std::vector<std::string>& header() const { return header_; }

 private:
  std::vector<column_binding> bindings_;
  std::vector<std::string> unmapped_columns_;
  std::vector<std::string> header_;
};

}  // namespace jobgate::records
