#include "common/records/import_request.hpp"

#include <rapidjson/document.h>
#include <rapidjson/error/en.h>

namespace jobgate::records {
namespace {

import_failure invalid_request(std::string subject, std::string detail) {
  return import_failure{import_failure_kind::invalid_request, std::move(subject),
                        std::move(detail)};
}

std::string string_of(const rapidjson::Value& value) {
  return std::string(value.GetString(), value.GetStringLength());
}

// Reads an optional string member into `out`; fails when present with another type.
boost::system::result<bool, import_failure> read_string(const rapidjson::Value& object,
                                                        const char* member, std::string& out) {
  const auto found = object.FindMember(member);
  if (found == object.MemberEnd()) {
    return false;
  }
  if (!found->value.IsString()) {
    return invalid_request(member, std::string("'") + member + "' must be a string.");
  }
  out = string_of(found->value);
  return true;
}

boost::system::result<import_options, import_failure> parse_options(const rapidjson::Value& json) {
  import_options options;
  if (!json.IsObject()) {
    return invalid_request("options", "'options' must be an object.");
  }

  std::string text;
  auto found = read_string(json, "delimiter", text);
  if (!found) {
    return found.error();
  }
  if (*found) {
    if (text.size() != 1 || text[0] == '"' || text[0] == '\r' || text[0] == '\n') {
      return invalid_request("delimiter",
                             "'delimiter' must be one character other than a quote, CR or LF.");
    }
    options.delimiter = text[0];
  }

  found = read_string(json, "encoding", text);
  if (!found) {
    return found.error();
  }
  if (*found) {
    const auto encoding = csv::parse_text_encoding(text);
    if (!encoding || *encoding == csv::text_encoding::utf_16le ||
        *encoding == csv::text_encoding::utf_16be) {
      return invalid_request(
          "encoding", "'encoding' must be utf-8, windows-1252 or iso-8859-1, not '" + text + "'.");
    }
    options.encoding = *encoding;
  }

  found = read_string(json, "dateFormat", text);
  if (!found) {
    return found.error();
  }
  if (*found) {
    const auto format = parse_date_format(text);
    if (!format) {
      return invalid_request(
          "dateFormat",
          "'dateFormat' must be YYYY-MM-DD, DD/MM/YYYY or MM/DD/YYYY, not '" + text + "'.");
    }
    options.dates = *format;
  }

  found = read_string(json, "dedupeBy", text);
  if (!found) {
    return found.error();
  }
  if (*found) {
    options.dedupe_by = text;
  }

  const auto has_header = json.FindMember("hasHeader");
  if (has_header != json.MemberEnd() &&
      !(has_header->value.IsBool() && has_header->value.GetBool())) {
    return invalid_request("hasHeader",
                           "Only files with a header are supported: 'hasHeader' must be true.");
  }
  return options;
}

}  // namespace

boost::system::result<import_request, import_failure> import_request::parse(std::string_view json) {
  rapidjson::Document document;
  document.Parse(json.data(), json.size());
  if (document.HasParseError()) {
    return invalid_request({}, std::string("The importRequest is not valid JSON (offset ") +
                                   std::to_string(document.GetErrorOffset()) + ": " +
                                   rapidjson::GetParseError_En(document.GetParseError()) + ").");
  }
  return from_json(document);
}

boost::system::result<import_request, import_failure> import_request::from_json(
    const rapidjson::Value& json) {
  if (!json.IsObject()) {
    return invalid_request({}, "The importRequest must be a JSON object.");
  }
  import_request request;

  auto found = read_string(json, "objectType", request.object_type);
  if (!found) {
    return found.error();
  }
  if (!*found) {
    return invalid_request("objectType", "The importRequest has no 'objectType'.");
  }
  found = read_string(json, "name", request.name);
  if (!found) {
    return found.error();
  }

  const auto mappings = json.FindMember("columnMappings");
  if (mappings != json.MemberEnd()) {
    if (!mappings->value.IsArray()) {
      return invalid_request("columnMappings", "'columnMappings' must be an array.");
    }
    for (const auto& entry : mappings->value.GetArray()) {
      column_mapping_request mapping;
      if (!entry.IsObject()) {
        return invalid_request("columnMappings", "Each column mapping must be an object.");
      }
      auto column = read_string(entry, "columnName", mapping.column_name);
      auto property = read_string(entry, "propertyName", mapping.property_name);
      if (!column || !property || !*column || !*property || mapping.column_name.empty() ||
          mapping.property_name.empty()) {
        return invalid_request("columnMappings",
                               "Each column mapping needs a non-empty 'columnName' and "
                               "'propertyName'.");
      }
      request.column_mappings.push_back(std::move(mapping));
    }
  }

  const auto options = json.FindMember("options");
  if (options != json.MemberEnd()) {
    auto parsed = parse_options(options->value);
    if (!parsed) {
      return parsed.error();
    }
    request.options = std::move(*parsed);
  }
  return request;
}

}  // namespace jobgate::records
