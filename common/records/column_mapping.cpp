#include "common/records/column_mapping.hpp"

#include <algorithm>

#include "common/records/property_value.hpp"

namespace jobgate::records {
namespace {

char ascii_lower(char c) {
  return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
}

bool equal_ignoring_ascii_case(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return ascii_lower(x) == ascii_lower(y);
         });
}

// Lower-cases ASCII letters and drops ASCII whitespace, so "First Name" matches "firstname".
std::string name_key(std::string_view text) {
  std::string key;
  key.reserve(text.size());
  for (const char c : text) {
    if (c != ' ' && c != '\t' && c != '\r' && c != '\n' && c != '\v' && c != '\f') {
      key += ascii_lower(c);
    }
  }
  return key;
}

import_failure failure(import_failure_kind kind, std::string subject, std::string detail) {
  return import_failure{kind, std::move(subject), std::move(detail)};
}

}  // namespace

boost::system::result<column_mapping, import_failure> column_mapping::resolve(
    const object_type_definition& object_type, std::span<const std::string> header,
    std::span<const column_mapping_request> requested) {
  column_mapping mapping;
  for (const std::string& cell : header) {
    mapping.header_.emplace_back(trim_ascii_whitespace(cell));
  }
  std::vector<bool> bound(header.size(), false);

  if (!requested.empty()) {
    // Each mapping must match exactly one header cell; duplicates are reported before misses.
    std::vector<std::size_t> matches(requested.size(), header.size());
    for (std::size_t m = 0; m < requested.size(); ++m) {
      const std::string_view requested_name = trim_ascii_whitespace(requested[m].column_name);
      for (std::size_t column = 0; column < header.size(); ++column) {
        if (!equal_ignoring_ascii_case(mapping.header_[column], requested_name)) {
          continue;
        }
        if (matches[m] != header.size()) {
          return failure(import_failure_kind::duplicate_column, requested[m].column_name,
                         "The header has more than one column named '" + requested[m].column_name +
                             "' (columns " + std::to_string(matches[m] + 1) + " and " +
                             std::to_string(column + 1) +
                             "), so the mapping is ambiguous; rename or remove one of them.");
        }
        matches[m] = column;
      }
    }
    for (std::size_t m = 0; m < requested.size(); ++m) {
      if (matches[m] == header.size()) {
        return failure(import_failure_kind::missing_column, requested[m].column_name,
                       "The header has no column named '" + requested[m].column_name +
                           "', which a column mapping names. Check the delimiter and the header.");
      }
    }

    std::vector<const property_definition*> properties;
    for (const column_mapping_request& request : requested) {
      const property_definition* property = object_type.find_property(request.property_name);
      if (property == nullptr) {
        return failure(import_failure_kind::unknown_property, request.property_name,
                       "The object type " + object_type.name + " has no property '" +
                           request.property_name + "'.");
      }
      properties.push_back(property);
    }
    for (std::size_t m = 0; m < requested.size(); ++m) {
      for (std::size_t other = 0; other < m; ++other) {
        if (properties[m] == properties[other]) {
          return failure(import_failure_kind::duplicate_property, properties[m]->name,
                         "The columns '" + requested[other].column_name + "' and '" +
                             requested[m].column_name + "' both map to the property '" +
                             properties[m]->name + "'; map only one of them.");
        }
      }
    }

    for (std::size_t m = 0; m < requested.size(); ++m) {
      mapping.bindings_.push_back(
          column_binding{matches[m], mapping.header_[matches[m]], properties[m]});
      bound[matches[m]] = true;
    }
  } else {
    for (std::size_t column = 0; column < header.size(); ++column) {
      const std::string key = name_key(header[column]);
      if (key.empty()) {
        continue;
      }
      const auto property =
          std::find_if(object_type.properties.begin(), object_type.properties.end(),
                       [&key](const property_definition& p) {
                         return name_key(p.name) == key || name_key(p.label) == key;
                       });
      if (property == object_type.properties.end()) {
        continue;
      }
      for (const column_binding& earlier : mapping.bindings_) {
        if (earlier.property == &*property) {
          return failure(import_failure_kind::duplicate_column, mapping.header_[column],
                         "The header columns '" + earlier.column_name + "' and '" +
                             mapping.header_[column] + "' both match the property '" +
                             property->name + "'; rename or remove one of them.");
        }
      }
      mapping.bindings_.push_back(column_binding{column, mapping.header_[column], &*property});
      bound[column] = true;
    }
  }

  const bool has_unique = std::any_of(
      mapping.bindings_.begin(), mapping.bindings_.end(),
      [&](const column_binding& b) { return b.property->name == object_type.unique_property; });
  if (!has_unique) {
    return failure(import_failure_kind::no_unique_column, object_type.unique_property,
                   "No column maps to " + object_type.unique_property + ", which identifies " +
                       object_type.name + "; add a column for it or map an existing one.");
  }

  std::stable_sort(
      mapping.bindings_.begin(), mapping.bindings_.end(),
      [](const column_binding& a, const column_binding& b) { return a.column < b.column; });
  for (std::size_t column = 0; column < header.size(); ++column) {
    if (!bound[column]) {
      mapping.unmapped_columns_.push_back(mapping.header_[column]);
    }
  }
  return mapping;
}

}  // namespace jobgate::records
