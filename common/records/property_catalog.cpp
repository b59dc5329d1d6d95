#include "common/records/property_catalog.hpp"

#include <rapidjson/document.h>
#include <rapidjson/error/en.h>

#include <array>
#include <stdexcept>
#include <utility>

#include "proto/proto_files.hpp"

namespace jobgate::records {
namespace {

constexpr std::array<property_type, 7> all_types = {
    property_type::string, property_type::email,  property_type::phone,       property_type::domain,
    property_type::date,   property_type::number, property_type::enumeration,
};

std::string string_of(const rapidjson::Value& value) {
  return std::string(value.GetString(), value.GetStringLength());
}

boost::system::result<property_definition, catalog_error> parse_property(
    const rapidjson::Value& json, std::string_view object_type) {
  const std::string where = "object type '" + std::string(object_type) + "'";
  if (!json.IsObject()) {
    return catalog_error{"a property of " + where + " is not an object"};
  }
  const auto name = json.FindMember("name");
  if (name == json.MemberEnd() || !name->value.IsString() || name->value.GetStringLength() == 0) {
    return catalog_error{"a property of " + where + " has no string member 'name'"};
  }

  property_definition property;
  property.name = string_of(name->value);
  const std::string property_where = "property '" + property.name + "' of " + where;

  const auto label = json.FindMember("label");
  if (label != json.MemberEnd()) {
    if (!label->value.IsString()) {
      return catalog_error{"the label of " + property_where + " is not a string"};
    }
    property.label = string_of(label->value);
  } else {
    property.label = property.name;
  }

  const auto type = json.FindMember("type");
  if (type == json.MemberEnd() || !type->value.IsString()) {
    return catalog_error{property_where + " has no string member 'type'"};
  }
  const auto parsed_type = parse_property_type(string_of(type->value));
  if (!parsed_type) {
    return catalog_error{property_where + " has the unknown type '" + string_of(type->value) + "'"};
  }
  property.type = *parsed_type;

  for (const auto& [member, target] :
       {std::pair{"unique", &property.unique}, std::pair{"required", &property.required}}) {
    const auto flag = json.FindMember(member);
    if (flag == json.MemberEnd()) {
      continue;
    }
    if (!flag->value.IsBool()) {
      return catalog_error{"'" + std::string(member) + "' of " + property_where +
                           " is not a boolean"};
    }
    *target = flag->value.GetBool();
  }

  const auto options = json.FindMember("options");
  if (options != json.MemberEnd()) {
    if (!options->value.IsArray()) {
      return catalog_error{"'options' of " + property_where + " is not an array"};
    }
    for (const auto& option : options->value.GetArray()) {
      if (!option.IsString()) {
        return catalog_error{"an option of " + property_where + " is not a string"};
      }
      property.options.push_back(string_of(option));
    }
  }
  if (property.type == property_type::enumeration && property.options.empty()) {
    return catalog_error{property_where + " is an enumeration without options"};
  }
  return property;
}

}  // namespace

std::string_view to_string(property_type type) {
  switch (type) {
    case property_type::string:
      return "string";
    case property_type::email:
      return "email";
    case property_type::phone:
      return "phone";
    case property_type::domain:
      return "domain";
    case property_type::date:
      return "date";
    case property_type::number:
      return "number";
    case property_type::enumeration:
      return "enumeration";
  }
  return "unknown";
}

std::optional<property_type> parse_property_type(std::string_view name) {
  for (const property_type type : all_types) {
    if (to_string(type) == name) {
      return type;
    }
  }
  return std::nullopt;
}

const property_definition* object_type_definition::find_property(
    std::string_view property_name) const {
  for (const property_definition& property : properties) {
    if (property.name == property_name) {
      return &property;
    }
  }
  return nullptr;
}

void throw_exception_from_error(const catalog_error& error, const boost::source_location&) {
  throw std::runtime_error(error.message);
}

boost::system::result<property_catalog, catalog_error> property_catalog::parse(
    std::string_view json) {
  rapidjson::Document document;
  document.Parse(json.data(), json.size());
  if (document.HasParseError()) {
    return catalog_error{std::string("invalid JSON at offset ") +
                         std::to_string(document.GetErrorOffset()) + ": " +
                         rapidjson::GetParseError_En(document.GetParseError())};
  }
  if (!document.IsObject()) {
    return catalog_error{"the catalog is not a JSON object"};
  }
  const auto types = document.FindMember("objectTypes");
  if (types == document.MemberEnd() || !types->value.IsObject()) {
    return catalog_error{"the catalog has no object member 'objectTypes'"};
  }

  property_catalog catalog;
  for (const auto& member : types->value.GetObject()) {
    object_type_definition object_type;
    object_type.name = string_of(member.name);
    const std::string where = "object type '" + object_type.name + "'";
    if (!member.value.IsObject()) {
      return catalog_error{where + " is not an object"};
    }

    const auto properties = member.value.FindMember("properties");
    if (properties == member.value.MemberEnd() || !properties->value.IsArray()) {
      return catalog_error{where + " has no array member 'properties'"};
    }
    for (const auto& json_property : properties->value.GetArray()) {
      auto property = parse_property(json_property, object_type.name);
      if (!property) {
        return property.error();
      }
      if (object_type.find_property(property->name) != nullptr) {
        return catalog_error{where + " defines property '" + property->name + "' twice"};
      }
      object_type.properties.push_back(std::move(*property));
    }

    const auto unique = member.value.FindMember("uniqueProperty");
    if (unique == member.value.MemberEnd() || !unique->value.IsString()) {
      return catalog_error{where + " has no string member 'uniqueProperty'"};
    }
    object_type.unique_property = string_of(unique->value);
    if (object_type.unique() == nullptr) {
      return catalog_error{where + " names the unique property '" + object_type.unique_property +
                           "', which it does not define"};
    }
    catalog.object_types_.push_back(std::move(object_type));
  }
  return catalog;
}

const property_catalog& property_catalog::builtin() {
  static const property_catalog catalog = [] {
    const auto json = proto::find_file("properties.json");
    if (!json) {
      throw std::runtime_error("properties.json is not embedded in this binary");
    }
    auto parsed = parse(*json);
    if (!parsed) {
      throw std::runtime_error("the embedded properties.json is invalid: " +
                               parsed.error().message);
    }
    return std::move(*parsed);
  }();
  return catalog;
}

const object_type_definition* property_catalog::find_object_type(std::string_view name) const {
  for (const object_type_definition& object_type : object_types_) {
    if (object_type.name == name) {
      return &object_type;
    }
  }
  return nullptr;
}

const property_definition* property_catalog::find_property(std::string_view object_type,
                                                           std::string_view property_name) const {
  const object_type_definition* type = find_object_type(object_type);
  return type == nullptr ? nullptr : type->find_property(property_name);
}

boost::system::result<void, catalog_error> property_catalog::add_property(
    std::string_view object_type, property_definition property) {
  object_type_definition* target = nullptr;
  for (object_type_definition& candidate : object_types_) {
    if (candidate.name == object_type) {
      target = &candidate;
    }
  }
  if (target == nullptr) {
    return catalog_error{"unknown object type '" + std::string(object_type) + "'"};
  }
  if (property.name.empty()) {
    return catalog_error{"a custom property needs a name"};
  }
  if (target->find_property(property.name) != nullptr) {
    return catalog_error{"object type '" + std::string(object_type) + "' already has property '" +
                         property.name + "'"};
  }
  if (property.type == property_type::enumeration && property.options.empty()) {
    return catalog_error{"the enumeration '" + property.name + "' has no options"};
  }
  if (property.label.empty()) {
    property.label = property.name;
  }
  property.unique = false;
  property.required = false;
  target->properties.push_back(std::move(property));
  return {};
}

boost::system::result<void, catalog_error> property_catalog::add_custom_property(
    std::string_view object_type, std::string_view name, property_type type,
    std::string_view label) {
  property_definition property;
  property.name = std::string(name);
  property.label = std::string(label);
  property.type = type;
  return add_property(object_type, std::move(property));
}

boost::system::result<void, catalog_error> property_catalog::define_custom_property(
    std::string_view object_type, std::string_view definition_json) {
  rapidjson::Document document;
  document.Parse(definition_json.data(), definition_json.size());
  if (document.HasParseError()) {
    return catalog_error{"a custom property of object type '" + std::string(object_type) +
                         "' is not valid JSON"};
  }
  auto property = parse_property(document, object_type);
  if (!property) {
    return property.error();
  }
  return add_property(object_type, std::move(*property));
}

boost::system::result<property_catalog, catalog_error> property_catalog::with_custom_properties(
    std::string_view object_type, const std::vector<std::string>& definitions) const {
  property_catalog extended = *this;
  for (const auto& definition : definitions) {
    if (auto added = extended.define_custom_property(object_type, definition); !added) {
      return added.error();
    }
  }
  return extended;
}

}  // namespace jobgate::records
