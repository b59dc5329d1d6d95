#pragma once

#include <boost/assert/source_location.hpp>
#include <boost/system/result.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace jobgate::records {

// Value types of CRM properties, as named in proto/properties.json.
enum class property_type { string, email, phone, domain, date, number, enumeration };

// Returns the catalog name of `type`, for example "enumeration".
std::string_view to_string(property_type type);
std::optional<property_type> parse_property_type(std::string_view name);

struct property_definition {
  std::string name;
  std::string label;
  property_type type = property_type::string;
  bool unique = false;
  bool required = false;
  std::vector<std::string> options;  // allowed values of an enumeration, in canonical spelling
};

struct object_type_definition {
  std::string name;
  std::string unique_property;
  std::vector<property_definition> properties;

  // Returns the property with exactly this name, or nullptr.
  const property_definition* find_property(std::string_view property_name) const;
  const property_definition* unique() const { return find_property(unique_property); }
};

// Error from loading or changing a catalog.
struct catalog_error {
  std::string message;
};

// Lets boost::system::result<T, catalog_error>::value() throw; found by argument-dependent lookup.
[[noreturn]] void throw_exception_from_error(const catalog_error& error,
                                             const boost::source_location& location);

// The object types and their properties. Many threads may read one catalog while none calls
// add_custom_property(), which also moves the properties of the object type it changes.
class property_catalog {
 public:
  // Parses a catalog in the format of proto/properties.json. Fails on a missing or mistyped
  // member, an unknown property type, an enumeration without options, or a uniqueProperty that
  // names no property.
  static boost::system::result<property_catalog, catalog_error> parse(std::string_view json);

  // Returns the catalog embedded from proto/properties.json, parsed on first use. Throws
  // std::runtime_error if the embedded file is missing or invalid, which is a build error.
  static const property_catalog& builtin();

  const object_type_definition* find_object_type(std::string_view name) const;
  const property_definition* find_property(std::string_view object_type,
                                           std::string_view property_name) const;
  const std::vector<object_type_definition>& object_types() const { return object_types_; }

  // Adds a custom property to an object type (label defaults to the name). Fails when the object
  // type is unknown, the name is empty, or the object type already has a property of that name.
  boost::system::result<void, catalog_error> add_custom_property(
      std::string_view object_type, std::string_view name,
      property_type type = property_type::string, std::string_view label = {});

  // Adds a custom property defined as a JSON object in the form of proto/properties.json (name,
  // label, type, options). A custom property is never unique or required. Fails like the other
  // overload, and on a malformed definition or an enumeration without options.
  boost::system::result<void, catalog_error> define_custom_property(
      std::string_view object_type, std::string_view definition_json);

  // A copy of this catalog with the custom properties of one object type added, each a JSON
  // definition as define_custom_property() takes it.
  boost::system::result<property_catalog, catalog_error> with_custom_properties(
      std::string_view object_type, const std::vector<std::string>& definitions) const;

 private:
  boost::system::result<void, catalog_error> add_property(std::string_view object_type,
                                                          property_definition property);

  std::vector<object_type_definition> object_types_;
};

}  // namespace jobgate::records
