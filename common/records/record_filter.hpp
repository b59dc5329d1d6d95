#pragma once

#include <boost/assert/source_location.hpp>
#include <boost/system/result.hpp>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/json/json.hpp"
#include "common/records/property_catalog.hpp"

namespace jobgate::records {

// Operators of an export filter. All but CONTAINS share their names and operand members (value,
// highValue, values) with HubSpot's CRM search API, whose CONTAINS_TOKEN matches whole words.
enum class filter_operator : std::uint8_t {
  eq,
  neq,
  contains,
  in,
  gt,
  gte,
  lt,
  lte,
  between,
  has_property,
  not_has_property,
};

// Returns the request spelling of `op`, for example "NOT_HAS_PROPERTY".
std::string_view to_string(filter_operator op);
std::optional<filter_operator> parse_filter_operator(std::string_view name);

// Returns whether `op` orders values, which only number and date properties allow.
bool is_range_operator(filter_operator op);

// A filter object that cannot be used. `member` is the JSON pointer of the offending member below
// the filter object, such as "value" or "values/2". `value` is the offending text, if any.
struct filter_error {
  std::string member;
  std::optional<std::string> value;
  std::string message;
};

// Lets boost::system::result<T, filter_error>::value() throw; found by argument-dependent lookup.
[[noreturn]] void throw_exception_from_error(const filter_error& error,
                                             const boost::source_location& location);

// One condition on one property of a record, from a filter object of an export request. Values
// are compared in their stored form (see normalise_property_value):
//
// - EQ, NEQ and IN compare whole values, ignoring ASCII case, and numbers of a number property as
//   decimals. CONTAINS finds a substring, also ignoring ASCII case.
// - GT, GTE, LT, LTE and BETWEEN (inclusive) compare numbers exactly as decimals, and dates as
//   calendar dates.
// - A record without a value passes only NEQ and NOT_HAS_PROPERTY.
//
// Immutable after construction, so threads may share one.
class record_filter {
 public:
  static constexpr std::size_t max_values = 100;  // entries of `values` for IN

  // Builds the filter that `item` describes on `property`, which the caller looked up by the
  // item's propertyName. Fails in these cases:
  // - the operator is unknown.
  // - `value`, `highValue` or `values` is missing, not allowed with the operator, or not a string
  //   (an array of 1 to max_values strings for `values`).
  // - CONTAINS has an empty value.
  // - a range operator names a property that is not a number or date.
  // - a range operand is not a number (number property) or a YYYY-MM-DD date (date property).
  // - BETWEEN's highValue is below its value.
  static boost::system::result<record_filter, filter_error> from_json(
      const json::value& item, const property_definition& property);

  // Returns whether a record whose stored value of the property is `stored` passes. nullopt
  // means the record has no value.
  bool matches(std::optional<std::string_view> stored) const;

  filter_operator op() const { return op_; }
  const std::string& property_name() const { return property_name_; }

 private:
  record_filter(std::string property_name, property_type type, filter_operator op,
                std::vector<std::string> operands);

  bool matches_value(std::string_view stored) const;
  bool equals(std::string_view stored, std::string_view operand) const;
  bool in_range(std::string_view stored) const;

  std::string property_name_;
  property_type type_ = property_type::string;
  filter_operator op_ = filter_operator::eq;
  // The operands: one for most operators, low then high for BETWEEN, the list for IN, none for
  // HAS_PROPERTY and NOT_HAS_PROPERTY. A CONTAINS operand is kept in lower case.
  std::vector<std::string> operands_;
};

// Compares two decimal numbers in the spelling normalise_property_value accepts (sign, digits,
// optional fraction and exponent) exactly. Returns -1, 0 or 1, or nullopt when either is not a
// number. Exponents beyond ±10^15 are clamped, so numbers that differ only past that compare equal.
std::optional<int> compare_decimal(std::string_view left, std::string_view right);

// Returns whether `text` is a calendar date written as YYYY-MM-DD, year 0001 to 9999.
bool is_iso_date(std::string_view text);

}  // namespace jobgate::records
