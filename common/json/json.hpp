#pragma once

// The one place that includes RapidJSON for the project: it fixes the library's options and offers
// checked getters, so callers never use RapidJSON's asserting accessors on input from outside.

#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <boost/system/result.hpp>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace jobgate::json {

using document = rapidjson::Document;
using value = rapidjson::Value;
using writer = rapidjson::Writer<rapidjson::StringBuffer>;

// A starting capacity for a rapidjson::StringBuffer that contains one API resource, such as a job,
// so that writing it needs one allocation rather than a chain of reallocations from 256 bytes.
inline constexpr std::size_t document_capacity = 2048;

// A parse failure: the message of RapidJSON and the byte offset of the error.
struct parse_error {
  std::string message;  // a phrase without a final period, for example "Invalid value"
  std::size_t offset = 0;
};

// Parses text as a JSON document. Invalid UTF-8 is a parse error.
boost::system::result<document, parse_error> parse(std::string_view text);

// Serialises a value to compact JSON text.
std::string serialize(const value& node);

// Serialises a value with object members sorted by name at every level, so documents that differ
// only in member order give the same text. For fingerprints of requests.
std::string serialize_canonical(const value& node);

// Checked member getters: nullopt when the member is absent or of another type.
std::optional<std::string_view> get_string(const value& object, std::string_view name);
std::optional<std::int64_t> get_int(const value& object, std::string_view name);
std::optional<bool> get_bool(const value& object, std::string_view name);
const value* get_object(const value& object, std::string_view name);
const value* get_array(const value& object, std::string_view name);

// Writes a string member name and a string value in one call.
void write_string(writer& out, std::string_view name, std::string_view text);

}  // namespace jobgate::json
