#include "common/records/record_filter.hpp"

#include <algorithm>
#include <array>
#include <stdexcept>
#include <utility>

#include "common/records/property_value.hpp"

namespace jobgate::records {

namespace {

constexpr std::array<std::pair<filter_operator, std::string_view>, 11> operator_names = {{
    {filter_operator::eq, "EQ"},
    {filter_operator::neq, "NEQ"},
    {filter_operator::contains, "CONTAINS"},
    {filter_operator::in, "IN"},
    {filter_operator::gt, "GT"},
    {filter_operator::gte, "GTE"},
    {filter_operator::lt, "LT"},
    {filter_operator::lte, "LTE"},
    {filter_operator::between, "BETWEEN"},
    {filter_operator::has_property, "HAS_PROPERTY"},
    {filter_operator::not_has_property, "NOT_HAS_PROPERTY"},
}};

// Past this, an exponent is clamped, which keeps the exponent arithmetic far from overflow.
// Numbers that differ only beyond the clamp compare as equal.
constexpr std::int64_t max_exponent = 1'000'000'000'000'000;

char to_lower_ascii(char c) {
  return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
}

bool equals_ignoring_case(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return to_lower_ascii(x) == to_lower_ascii(y);
         });
}

bool is_digit(char c) {
  return c >= '0' && c <= '9';
}

// A decimal number as sign, significant digits and exponent, whose value is
// 0.digits × 10^exponent. Zero has no digits. Equal numbers have equal parts, however written.
struct decimal {
  bool negative = false;
  std::string digits;
  std::int64_t exponent = 0;
};

std::optional<decimal> parse_decimal(std::string_view text) {
  std::size_t i = 0;
  decimal number;
  if (i < text.size() && (text[i] == '+' || text[i] == '-')) {
    number.negative = text[i] == '-';
    ++i;
  }
  const std::size_t integer_start = i;
  while (i < text.size() && is_digit(text[i])) {
    ++i;
  }
  const std::string_view integer = text.substr(integer_start, i - integer_start);
  std::string_view fraction;
  if (i < text.size() && text[i] == '.') {
    const std::size_t fraction_start = ++i;
    while (i < text.size() && is_digit(text[i])) {
      ++i;
    }
    fraction = text.substr(fraction_start, i - fraction_start);
  }
  if (integer.empty() && fraction.empty()) {
    return std::nullopt;
  }

  std::int64_t written_exponent = 0;
  if (i < text.size() && (text[i] == 'e' || text[i] == 'E')) {
    ++i;
    bool negative_exponent = false;
    if (i < text.size() && (text[i] == '+' || text[i] == '-')) {
      negative_exponent = text[i] == '-';
      ++i;
    }
    const std::size_t exponent_start = i;
    while (i < text.size() && is_digit(text[i])) {
      written_exponent = std::min(written_exponent * 10 + (text[i] - '0'), max_exponent);
      ++i;
    }
    if (i == exponent_start) {
      return std::nullopt;
    }
    if (negative_exponent) {
      written_exponent = -written_exponent;
    }
  }
  if (i != text.size()) {
    return std::nullopt;
  }

  // Move the decimal point in front of the first significant digit.
  number.digits.reserve(integer.size() + fraction.size());
  number.digits.append(integer);
  number.digits.append(fraction);
  const std::size_t leading_zeros =
      std::min(number.digits.find_first_not_of('0'), number.digits.size());
  number.digits.erase(0, leading_zeros);
  number.digits.erase(number.digits.find_last_not_of('0') + 1);
  number.exponent = written_exponent + static_cast<std::int64_t>(integer.size()) -
                    static_cast<std::int64_t>(leading_zeros);
  if (number.digits.empty()) {
    number.negative = false;
    number.exponent = 0;
  }
  return number;
}

int sign_of(const decimal& number) {
  if (number.digits.empty()) {
    return 0;
  }
  return number.negative ? -1 : 1;
}

int compare(const decimal& left, const decimal& right) {
  const int left_sign = sign_of(left);
  const int right_sign = sign_of(right);
  if (left_sign != right_sign) {
    return left_sign < right_sign ? -1 : 1;
  }
  if (left_sign == 0) {
    return 0;
  }

  // Same sign: compare magnitudes, then flip the result for negative numbers. Digits carry no
  // trailing zeros, so a digit string that is a prefix of the other is the smaller magnitude.
  int magnitude = 0;
  if (left.exponent != right.exponent) {
    magnitude = left.exponent < right.exponent ? -1 : 1;
  } else {
    const int digits = left.digits.compare(right.digits);
    magnitude = digits < 0 ? -1 : (digits > 0 ? 1 : 0);
  }
  return left_sign * magnitude;
}

filter_error error_at(std::string member, std::optional<std::string> value, std::string message) {
  return filter_error{std::move(member), std::move(value), std::move(message)};
}

// The operand members of a filter object that an operator takes.
enum class operand_shape : std::uint8_t { none, value, value_and_high, values };

operand_shape shape_of(filter_operator op) {
  switch (op) {
    case filter_operator::has_property:
    case filter_operator::not_has_property:
      return operand_shape::none;
    case filter_operator::between:
      return operand_shape::value_and_high;
    case filter_operator::in:
      return operand_shape::values;
    default:
      return operand_shape::value;
  }
}

// Checks that a range operand is a number or a date, as the property's type requires.
std::optional<filter_error> check_range_operand(const property_definition& property,
                                                std::string_view member, const std::string& text) {
  if (property.type == property_type::number && !parse_decimal(text)) {
    return error_at(std::string(member), text,
                    "The " + std::string(member) + " '" + text + "' is not a number, but '" +
                        property.name +
                        "' is a number property. Write digits with an optional sign, a dot "
                        "before the fraction and an optional exponent.");
  }
  if (property.type == property_type::date && !is_iso_date(text)) {
    return error_at(std::string(member), text,
                    "The " + std::string(member) + " '" + text + "' is not a date, but '" +
                        property.name +
                        "' is a date property. Write a calendar date as YYYY-MM-DD.");
  }
  return std::nullopt;
}

// Reads an optional string member. Fails when the member is present with another JSON type.
boost::system::result<std::optional<std::string>, filter_error> read_string(const json::value& item,
                                                                            std::string_view name) {
  if (!item.HasMember(rapidjson::StringRef(name.data(), name.size()))) {
    return std::optional<std::string>();
  }
  const auto text = json::get_string(item, name);
  if (!text) {
    return error_at(std::string(name), std::nullopt,
                    "The " + std::string(name) + " must be a string.");
  }
  return std::optional<std::string>(std::string(*text));
}

// Checks that an operator has exactly the operand members it takes.
std::optional<filter_error> check_operand_members(const std::string& op_name, operand_shape shape,
                                                  const std::optional<std::string>& value,
                                                  const std::optional<std::string>& high_value,
                                                  const json::value* values) {
  const bool wants_value = shape == operand_shape::value || shape == operand_shape::value_and_high;
  if (wants_value && !value) {
    return error_at("value", std::nullopt, "The operator " + op_name + " needs a value.");
  }
  if (!wants_value && value) {
    return error_at("value", *value,
                    "The operator " + op_name + " takes no value" +
                        (shape == operand_shape::values ? ", only values." : "."));
  }
  if (shape == operand_shape::value_and_high && !high_value) {
    return error_at("highValue", std::nullopt,
                    "The operator BETWEEN needs a highValue, the inclusive upper bound.");
  }
  if (shape != operand_shape::value_and_high && high_value) {
    return error_at("highValue", *high_value,
                    "The operator " + op_name + " takes no highValue. Only BETWEEN does.");
  }
  if (shape == operand_shape::values && values == nullptr) {
    return error_at("values", std::nullopt,
                    "The operator IN needs values, an array of 1 to " +
                        std::to_string(record_filter::max_values) + " strings.");
  }
  if (shape != operand_shape::values && values != nullptr) {
    return error_at("values", std::nullopt,
                    "The operator " + op_name + " takes no values. Only IN does.");
  }
  return std::nullopt;
}

// Checks the operand values against the operator and property type and returns them in the order
// record_filter keeps them.
boost::system::result<std::vector<std::string>, filter_error> collect_operands(
    filter_operator op, operand_shape shape, const property_definition& property,
    std::optional<std::string> value, std::optional<std::string> high_value,
    const json::value* values) {
  std::vector<std::string> operands;
  switch (shape) {
    case operand_shape::none:
      break;
    case operand_shape::value:
      if (op == filter_operator::contains && value->empty()) {
        return error_at("value", *value,
                        "The operator CONTAINS needs a non-empty value. HAS_PROPERTY tests for "
                        "any value.");
      }
      if (is_range_operator(op)) {
        if (auto bad = check_range_operand(property, "value", *value)) {
          return *bad;
        }
      }
      operands.push_back(std::move(*value));
      if (op == filter_operator::contains) {
        std::transform(operands[0].begin(), operands[0].end(), operands[0].begin(), to_lower_ascii);
      }
      break;
    case operand_shape::value_and_high: {
      if (auto bad = check_range_operand(property, "value", *value)) {
        return *bad;
      }
      if (auto bad = check_range_operand(property, "highValue", *high_value)) {
        return *bad;
      }
      // Both operands were checked above, so compare_decimal has a result.
      const bool reversed = property.type == property_type::number
                                ? *compare_decimal(*value, *high_value) > 0
                                : *value > *high_value;
      if (reversed) {
        return error_at("highValue", *high_value,
                        "The highValue '" + *high_value + "' is below the value '" + *value +
                            "', so BETWEEN would match nothing.");
      }
      operands.push_back(std::move(*value));
      operands.push_back(std::move(*high_value));
      break;
    }
    case operand_shape::values:
      if (values->Empty() || values->Size() > record_filter::max_values) {
        return error_at("values", std::nullopt,
                        "The operator IN needs 1 to " + std::to_string(record_filter::max_values) +
                            " values, not " + std::to_string(values->Size()) + ".");
      }
      for (rapidjson::SizeType i = 0; i < values->Size(); ++i) {
        const auto& entry = (*values)[i];
        if (!entry.IsString()) {
          return error_at("values/" + std::to_string(i), std::nullopt,
                          "Each entry of values must be a string.");
        }
        operands.emplace_back(entry.GetString(), entry.GetStringLength());
      }
      break;
  }
  return operands;
}

}  // namespace

std::string_view to_string(filter_operator op) {
  for (const auto& [known, name] : operator_names) {
    if (known == op) {
      return name;
    }
  }
  return "EQ";
}

std::optional<filter_operator> parse_filter_operator(std::string_view name) {
  for (const auto& [op, known] : operator_names) {
    if (known == name) {
      return op;
    }
  }
  return std::nullopt;
}

bool is_range_operator(filter_operator op) {
  return op == filter_operator::gt || op == filter_operator::gte || op == filter_operator::lt ||
         op == filter_operator::lte || op == filter_operator::between;
}

void throw_exception_from_error(const filter_error& error, const boost::source_location&) {
  throw std::invalid_argument(error.message);
}

record_filter::record_filter(std::string property_name, property_type type, filter_operator op,
                             std::vector<std::string> operands)
    : property_name_(std::move(property_name)),
      type_(type),
      op_(op),
      operands_(std::move(operands)) {}

boost::system::result<record_filter, filter_error> record_filter::from_json(
    const json::value& item, const property_definition& property) {
  if (!item.IsObject()) {
    return error_at("", std::nullopt, "A filter must be an object.");
  }
  const auto name = json::get_string(item, "operator");
  if (!name) {
    return error_at("operator", std::nullopt, "The filter needs an operator.");
  }
  const auto op = parse_filter_operator(*name);
  if (!op) {
    return error_at("operator", std::string(*name),
                    "The operator '" + std::string(*name) +
                        "' is unknown. Use EQ, NEQ, CONTAINS, IN, GT, GTE, LT, LTE, BETWEEN, "
                        "HAS_PROPERTY or NOT_HAS_PROPERTY.");
  }
  const std::string op_name(*name);

  auto value = read_string(item, "value");
  if (!value) {
    return value.error();
  }
  auto high_value = read_string(item, "highValue");
  if (!high_value) {
    return high_value.error();
  }
  const json::value* values = nullptr;
  if (item.HasMember("values")) {
    values = json::get_array(item, "values");
    if (values == nullptr) {
      return error_at("values", std::nullopt, "The values must be an array of strings.");
    }
  }

  const operand_shape shape = shape_of(*op);
  if (auto bad = check_operand_members(op_name, shape, *value, *high_value, values)) {
    return *bad;
  }
  if (is_range_operator(*op) && property.type != property_type::number &&
      property.type != property_type::date) {
    return error_at(
        "operator", op_name,
        "The operator " + op_name + " orders values, so it needs a number or date property, but '" +
            property.name + "' is of type " + std::string(to_string(property.type)) + ".");
  }

  auto operands =
      collect_operands(*op, shape, property, std::move(*value), std::move(*high_value), values);
  if (!operands) {
    return operands.error();
  }
  return record_filter(property.name, property.type, *op, std::move(*operands));
}

bool record_filter::matches(std::optional<std::string_view> stored) const {
  switch (op_) {
    case filter_operator::has_property:
      return stored.has_value();
    case filter_operator::not_has_property:
      return !stored.has_value();
    case filter_operator::neq:
      return !stored || !equals(*stored, operands_[0]);
    default:
      return stored && matches_value(*stored);
  }
}

bool record_filter::matches_value(std::string_view stored) const {
  switch (op_) {
    case filter_operator::eq:
      return equals(stored, operands_[0]);
    case filter_operator::contains: {
      const std::string& needle = operands_[0];
      const auto found =
          std::search(stored.begin(), stored.end(), needle.begin(), needle.end(),
                      [](char hay, char lowered) { return to_lower_ascii(hay) == lowered; });
      return found != stored.end() || needle.empty();
    }
    case filter_operator::in:
      return std::any_of(
          operands_.begin(), operands_.end(),
          [this, stored](const std::string& option) { return equals(stored, option); });
    default:
      return in_range(stored);
  }
}

bool record_filter::equals(std::string_view stored, std::string_view operand) const {
  if (type_ == property_type::number) {
    if (const auto order = compare_decimal(stored, operand)) {
      return *order == 0;
    }
  }
  return equals_ignoring_case(stored, operand);
}

bool record_filter::in_range(std::string_view stored) const {
  // Returns -1, 0 or 1 as `stored` is below, equal to or above operand `index`, or nullopt when
  // `stored` is malformed.
  const auto compare_with = [this, stored](std::size_t index) -> std::optional<int> {
    const std::string& operand = operands_[index];
    if (type_ == property_type::number) {
      return compare_decimal(stored, operand);
    }
    if (!is_iso_date(stored)) {
      return std::nullopt;
    }
    // YYYY-MM-DD with four-digit years sorts as text in calendar order.
    const int order = stored.compare(operand);
    return order < 0 ? -1 : (order > 0 ? 1 : 0);
  };

  const auto low = compare_with(0);
  if (!low) {
    return false;
  }
  switch (op_) {
    case filter_operator::gt:
      return *low > 0;
    case filter_operator::gte:
      return *low >= 0;
    case filter_operator::lt:
      return *low < 0;
    case filter_operator::lte:
      return *low <= 0;
    case filter_operator::between:
      return *low >= 0 && *compare_with(1) <= 0;
    default:
      return false;
  }
}

std::optional<int> compare_decimal(std::string_view left, std::string_view right) {
  const auto left_number = parse_decimal(left);
  const auto right_number = parse_decimal(right);
  if (!left_number || !right_number) {
    return std::nullopt;
  }
  return compare(*left_number, *right_number);
}

bool is_iso_date(std::string_view text) {
  if (text.size() != 10) {
    return false;
  }
  property_definition date_property;
  date_property.type = property_type::date;
  std::string stored;
  const auto check =
      normalise_property_value(date_property, text, date_format::year_month_day, stored);
  return check.state == value_state::valid && stored == text;
}

}  // namespace jobgate::records
