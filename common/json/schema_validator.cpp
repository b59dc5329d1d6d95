#include "common/json/schema_validator.hpp"

#include <rapidjson/schema.h>

#include <mutex>
#include <optional>
#include <stdexcept>

#include "proto/proto_files.hpp"

namespace jobgate::json {

struct schema_validator::impl {
  explicit impl(document&& schema_source) : source(std::move(schema_source)), schema(source) {}
  document source;
  rapidjson::SchemaDocument schema;
  // RapidJSON 1.1 keeps the match state of a "pattern" regex in mutable members of the schema
  // document, so two validations that reach a pattern at once corrupt each other.
  std::mutex validating;
};

namespace {

// States the rule of a size, pattern or uniqueness keyword with the limit from the schema, such as
// "must have at least 1 item". Returns nullopt for other keywords or a schema without the limit.
std::optional<std::string> describe_rule(std::string_view keyword, const value* schema_node) {
  if (schema_node == nullptr) {
    return std::nullopt;
  }
  if (keyword == "uniqueItems") {
    // RapidJSON points at the repeated item itself.
    return std::string("repeats an earlier item of its array");
  }
  if (keyword == "pattern") {
    const auto pattern = get_string(*schema_node, "pattern");
    return pattern ? std::optional<std::string>("must match the pattern " + std::string(*pattern))
                   : std::nullopt;
  }
  struct bound {
    std::string_view keyword;
    std::string_view phrase;
    std::string_view unit;
  };
  static constexpr bound bounds[] = {
      {"minItems", "must have at least", " item"},
      {"maxItems", "must have at most", " item"},
      {"minLength", "must be at least", " character"},
      {"maxLength", "must be at most", " character"},
      {"minimum", "must be at least", ""},
      {"maximum", "must be at most", ""},
  };
  for (const auto& candidate : bounds) {
    if (candidate.keyword != keyword) {
      continue;
    }
    const auto limit = get_int(*schema_node, keyword);
    if (!limit) {
      return std::nullopt;
    }
    std::string text = std::string(candidate.phrase) + " " + std::to_string(*limit);
    if (!candidate.unit.empty()) {
      text += std::string(candidate.unit) + (*limit == 1 ? "" : "s");
    }
    return text;
  }
  return std::nullopt;
}

std::optional<std::string> first_missing_member(const value* schema_node,
                                                const value* document_node) {
  if (schema_node == nullptr || document_node == nullptr || !document_node->IsObject()) {
    return std::nullopt;
  }
  const value* required = get_array(*schema_node, "required");
  if (required == nullptr) {
    return std::nullopt;
  }
  for (const auto& name : required->GetArray()) {
    if (name.IsString() && !document_node->HasMember(name.GetString())) {
      return std::string(name.GetString(), name.GetStringLength());
    }
  }
  return std::nullopt;
}

}  // namespace

schema_validator::schema_validator(std::string_view proto_file) {
  const auto text = proto::find_file(proto_file);
  if (!text) {
    throw std::runtime_error("schema file not embedded: " + std::string(proto_file));
  }
  auto parsed = parse(*text);
  if (!parsed) {
    throw std::runtime_error("invalid schema file " + std::string(proto_file) + ": " +
                             parsed.error().message);
  }
  impl_ = std::make_unique<impl>(std::move(*parsed));
}

schema_validator::~schema_validator() = default;

boost::system::result<void, schema_violation> schema_validator::validate(
    const value& document) const {
  std::lock_guard lock(impl_->validating);
  rapidjson::SchemaValidator validator(impl_->schema);
  const auto find_schema_node = [this](const rapidjson::SchemaValidator& failed) {
    return failed.GetInvalidSchemaPointer().Get(impl_->source);
  };
  if (document.Accept(validator)) {
    return {};
  }

  rapidjson::StringBuffer pointer;
  validator.GetInvalidDocumentPointer().StringifyUriFragment(pointer);
  std::string where(pointer.GetString(), pointer.GetSize());
  if (where.starts_with('#')) {
    where.erase(0, 1);
  }
  std::string keyword = validator.GetInvalidSchemaKeyword();

  std::string message;
  const std::string field = where.empty() ? "the document" : "'" + where + "'";
  const value* schema_node = find_schema_node(validator);
  const value* document_node = validator.GetInvalidDocumentPointer().Get(document);
  if (keyword == "required") {
    message = field + " is missing a required member";
    if (auto missing = first_missing_member(schema_node, document_node)) {
      message = field + " is missing the required member '" + *missing + "'";
      where += "/" + *missing;
    }
  } else if (keyword == "additionalProperties") {
    // RapidJSON 1.1 reports the pointer of the extra member itself, not of its object.
    message = "'" + where + "' is not an allowed member";
  } else if (keyword == "enum") {
    message = field + " must be one of the allowed values";
    if (schema_node != nullptr && get_array(*schema_node, "enum") != nullptr) {
      message += ": " + serialize(*get_array(*schema_node, "enum"));
    }
  } else if (keyword == "type") {
    message = field + " has the wrong type";
    if (schema_node != nullptr && get_string(*schema_node, "type")) {
      message = field + " must be of type " + std::string(*get_string(*schema_node, "type"));
    }
  } else if (const auto rule = describe_rule(keyword, schema_node)) {
    message = field + " " + *rule;
  } else {
    message = field + " fails the schema keyword '" + keyword + "'";
  }
  return schema_violation{std::move(where), std::move(keyword), std::move(message)};
}

}  // namespace jobgate::json
