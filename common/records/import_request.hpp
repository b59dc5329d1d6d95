#pragma once

#include <rapidjson/fwd.h>

#include <boost/system/result.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/csv/text_encoding.hpp"
#include "common/records/import_failure.hpp"
#include "common/records/property_value.hpp"

namespace jobgate::records {

// One entry of importRequest.columnMappings.
struct column_mapping_request {
  std::string column_name;
  std::string property_name;
};

// importRequest.options, with the defaults that apply when a member is absent.
struct import_options {
  char delimiter = ',';
  csv::text_encoding encoding = csv::text_encoding::utf_8;
  date_format dates = date_format::year_month_day;
  std::optional<std::string> dedupe_by;  // must name the object type's unique property

  bool operator==(const import_options&) const = default;
};

// The importRequest part of an import submission.
struct import_request {
  std::string name;
  std::string object_type;
  // Empty when the request has none; columns then map by property name or label.
  std::vector<column_mapping_request> column_mappings;
  import_options options;

  // Parses an importRequest that passed proto/schemas/import-request.schema.json. Fails with
  // invalid_request on malformed JSON or a member of the wrong type or value.
  static boost::system::result<import_request, import_failure> parse(std::string_view json);
  static boost::system::result<import_request, import_failure> from_json(
      const rapidjson::Value& json);
};

}  // namespace jobgate::records
