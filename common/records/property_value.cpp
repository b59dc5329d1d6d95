#include "common/records/property_value.hpp"

#include <algorithm>
#include <array>

namespace jobgate::records {
namespace {

bool is_ascii_whitespace(char c) {
  return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v' || c == '\f';
}

bool is_digit(char c) {
  return c >= '0' && c <= '9';
}

char ascii_lower(char c) {
  return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
}

void append_lower(std::string_view text, std::string& out) {
  for (const char c : text) {
    out += ascii_lower(c);
  }
}

bool equal_ignoring_ascii_case(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return ascii_lower(x) == ascii_lower(y);
         });
}

value_check invalid(row_error_kind kind, std::string_view detail) {
  return value_check{value_state::invalid, kind, detail};
}

value_check empty_value() {
  return value_check{value_state::empty, row_error_kind::missing_required, {}};
}

// Checks a lower-case host name. It needs two or more labels of 1 to 63 bytes: letters, digits,
// inner hyphens and bytes above 0x7F. The last label has 2+ bytes and is not all digits.
bool is_valid_host_name(std::string_view host) {
  if (host.empty() || host.size() > 253) {
    return false;
  }
  std::size_t labels = 0;
  std::string_view last_label;
  while (true) {
    const std::size_t dot = host.find('.');
    const std::string_view label = host.substr(0, dot);
    if (label.empty() || label.size() > 63 || label.front() == '-' || label.back() == '-') {
      return false;
    }
    for (const char c : label) {
      const bool letter = (c >= 'a' && c <= 'z') || static_cast<unsigned char>(c) >= 0x80;
      if (!letter && !is_digit(c) && c != '-') {
        return false;
      }
    }
    ++labels;
    last_label = label;
    if (dot == std::string_view::npos) {
      break;
    }
    host.remove_prefix(dot + 1);
  }
  return labels >= 2 && last_label.size() >= 2 &&
         !std::all_of(last_label.begin(), last_label.end(), is_digit);
}

value_check normalise_email(std::string_view value, std::string& out) {
  if (value.find('@') == std::string_view::npos) {
    return invalid(row_error_kind::invalid_email, "an email address needs an @");
  }
  for (const char c : value) {
    if (is_ascii_whitespace(c) || static_cast<unsigned char>(c) < 0x20 || c == 0x7F) {
      return invalid(row_error_kind::invalid_email,
                     "an email address cannot contain spaces or control characters; put one "
                     "address in each cell");
    }
    if (c == ',' || c == ';') {
      return invalid(row_error_kind::invalid_email,
                     "an email address cannot contain commas or semicolons; put one address in "
                     "each cell");
    }
    if (std::string_view("()<>[]\\\":").find(c) != std::string_view::npos) {
      return invalid(row_error_kind::invalid_email,
                     "an email address cannot contain ( ) < > [ ] \\ \" or :");
    }
  }

  const std::size_t at = value.find('@');
  if (value.find('@', at + 1) != std::string_view::npos) {
    return invalid(row_error_kind::invalid_email, "an email address needs exactly one @");
  }
  const std::string_view local = value.substr(0, at);
  const std::string_view domain = value.substr(at + 1);
  if (local.empty() || local.size() > 64) {
    return invalid(row_error_kind::invalid_email,
                   "the part before the @ must hold 1 to 64 characters");
  }
  if (local.front() == '.' || local.back() == '.' || local.find("..") != std::string_view::npos) {
    return invalid(row_error_kind::invalid_email,
                   "the part before the @ cannot start or end with a dot or hold two dots in a "
                   "row");
  }
  if (domain.find('.') == std::string_view::npos) {
    return invalid(row_error_kind::invalid_email, "the domain after the @ has no dot");
  }

  append_lower(value, out);
  if (!is_valid_host_name(std::string_view(out).substr(at + 1))) {
    return invalid(row_error_kind::invalid_email,
                   "the domain after the @ is not a valid domain name");
  }
  return value_check{};
}

// Matches [+-]digits[(.|,)digits]e[+-]digits: what a spreadsheet shows for a long number.
bool is_scientific_notation(std::string_view value) {
  std::size_t i = 0;
  if (i < value.size() && (value[i] == '+' || value[i] == '-')) {
    ++i;
  }
  const std::size_t mantissa_start = i;
  while (i < value.size() && is_digit(value[i])) {
    ++i;
  }
  if (i == mantissa_start) {
    return false;
  }
  if (i < value.size() && (value[i] == '.' || value[i] == ',')) {
    ++i;
    while (i < value.size() && is_digit(value[i])) {
      ++i;
    }
  }
  if (i >= value.size() || (value[i] != 'e' && value[i] != 'E')) {
    return false;
  }
  ++i;
  if (i < value.size() && (value[i] == '+' || value[i] == '-')) {
    ++i;
  }
  const std::size_t exponent_start = i;
  while (i < value.size() && is_digit(value[i])) {
    ++i;
  }
  return i > exponent_start && i == value.size();
}

value_check normalise_phone(std::string_view value, std::string& out) {
  if (std::none_of(value.begin(), value.end(), is_digit)) {
    return invalid(row_error_kind::invalid_phone, "a phone number needs at least one digit");
  }
  if (is_scientific_notation(value)) {
    return invalid(row_error_kind::invalid_phone,
                   "the phone number is in scientific notation, so a spreadsheet has already "
                   "dropped digits; format the column as text and export the file again");
  }
  out.assign(value);
  return value_check{};
}

value_check normalise_domain(std::string_view value, std::string& out) {
  append_lower(value, out);
  std::string_view host = out;

  // Strip a URL's scheme, then everything after the host.
  if (const std::size_t scheme_end = host.find("://"); scheme_end != std::string_view::npos) {
    host.remove_prefix(scheme_end + 3);
  } else if (host.starts_with("//")) {
    host.remove_prefix(2);
  }
  host = host.substr(0, host.find_first_of("/?#"));
  if (const std::size_t colon = host.rfind(':'); colon != std::string_view::npos) {
    const std::string_view port = host.substr(colon + 1);
    if (!std::all_of(port.begin(), port.end(), is_digit)) {
      return invalid(row_error_kind::invalid_domain, "the value is not a valid domain name");
    }
    host = host.substr(0, colon);
  }
  if (host.ends_with('.')) {
    host.remove_suffix(1);
  }
  // `www.` is a host, not the company's domain, unless nothing else would be left.
  if (host.starts_with("www.") && host.find('.', 4) != std::string_view::npos) {
    host.remove_prefix(4);
  }

  if (host.find('.') == std::string_view::npos) {
    return invalid(row_error_kind::invalid_domain, "a domain name needs at least one dot");
  }
  if (!is_valid_host_name(host)) {
    return invalid(row_error_kind::invalid_domain, "the value is not a valid domain name");
  }
  out = std::string(host);
  return value_check{};
}

// Reads 1 to `max_digits` digits starting at `pos` into `number`; advances `pos`.
bool read_digits(std::string_view text, std::size_t& pos, std::size_t min_digits,
                 std::size_t max_digits, int& number) {
  const std::size_t start = pos;
  number = 0;
  while (pos < text.size() && is_digit(text[pos]) && pos - start < max_digits) {
    number = number * 10 + (text[pos] - '0');
    ++pos;
  }
  return pos - start >= min_digits;
}

bool is_leap_year(int year) {
  return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
}

int days_in_month(int year, int month) {
  constexpr std::array<int, 12> days = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return month == 2 && is_leap_year(year) ? 29 : days[static_cast<std::size_t>(month - 1)];
}

value_check normalise_date(std::string_view value, date_format format, std::string& out) {
  int year = 0;
  int month = 0;
  int day = 0;
  std::size_t pos = 0;
  bool parsed = false;
  std::string_view expected;

  switch (format) {
    case date_format::year_month_day:
      expected = "expected a date as YYYY-MM-DD";
      parsed = read_digits(value, pos, 4, 4, year) && pos < value.size() && value[pos++] == '-' &&
               read_digits(value, pos, 2, 2, month) && pos < value.size() && value[pos++] == '-' &&
               read_digits(value, pos, 2, 2, day);
      break;
    case date_format::day_month_year:
      expected = "expected a date as DD/MM/YYYY";
      parsed = read_digits(value, pos, 1, 2, day) && pos < value.size() && value[pos++] == '/' &&
               read_digits(value, pos, 1, 2, month) && pos < value.size() && value[pos++] == '/' &&
               read_digits(value, pos, 4, 4, year);
      break;
    case date_format::month_day_year:
      expected = "expected a date as MM/DD/YYYY";
      parsed = read_digits(value, pos, 1, 2, month) && pos < value.size() && value[pos++] == '/' &&
               read_digits(value, pos, 1, 2, day) && pos < value.size() && value[pos++] == '/' &&
               read_digits(value, pos, 4, 4, year);
      break;
  }
  if (!parsed || pos != value.size()) {
    return invalid(row_error_kind::invalid_date, expected);
  }
  if (year < 1 || month < 1 || month > 12 || day < 1 || day > days_in_month(year, month)) {
    return invalid(row_error_kind::invalid_date, "the value is not a calendar date");
  }

  out.resize(10);
  const auto put = [&out](std::size_t at, int number, int digits) {
    for (int i = digits - 1; i >= 0; --i) {
      out[at + static_cast<std::size_t>(i)] = static_cast<char>('0' + number % 10);
      number /= 10;
    }
  };
  put(0, year, 4);
  out[4] = '-';
  put(5, month, 2);
  out[7] = '-';
  put(8, day, 2);
  return value_check{};
}

value_check normalise_number(std::string_view value, std::string& out) {
  constexpr std::string_view not_a_number =
      "expected a number: digits with an optional sign, a dot as the decimal separator and no "
      "thousands separators";
  std::size_t i = 0;
  bool negative = false;
  if (i < value.size() && (value[i] == '+' || value[i] == '-')) {
    negative = value[i] == '-';
    ++i;
  }
  const std::size_t integer_start = i;
  while (i < value.size() && is_digit(value[i])) {
    ++i;
  }
  std::string_view integer = value.substr(integer_start, i - integer_start);
  std::string_view fraction;
  if (i < value.size() && value[i] == '.') {
    const std::size_t fraction_start = ++i;
    while (i < value.size() && is_digit(value[i])) {
      ++i;
    }
    fraction = value.substr(fraction_start, i - fraction_start);
  }
  if (integer.empty() && fraction.empty()) {
    return invalid(row_error_kind::invalid_number, not_a_number);
  }
  bool negative_exponent = false;
  std::string_view exponent;
  if (i < value.size() && (value[i] == 'e' || value[i] == 'E')) {
    ++i;
    if (i < value.size() && (value[i] == '+' || value[i] == '-')) {
      negative_exponent = value[i] == '-';
      ++i;
    }
    const std::size_t exponent_start = i;
    while (i < value.size() && is_digit(value[i])) {
      ++i;
    }
    exponent = value.substr(exponent_start, i - exponent_start);
    if (exponent.empty()) {
      return invalid(row_error_kind::invalid_number, not_a_number);
    }
  }
  if (i != value.size()) {
    return invalid(row_error_kind::invalid_number, not_a_number);
  }

  // Canonical form: no plus sign, no leading zeros, no trailing fraction zeros, no zero exponent.
  integer.remove_prefix(std::min(integer.find_first_not_of('0'), integer.size()));
  fraction = fraction.substr(0, fraction.find_last_not_of('0') + 1);
  exponent.remove_prefix(std::min(exponent.find_first_not_of('0'), exponent.size()));
  const bool zero = integer.empty() && fraction.empty();
  if (negative && !zero) {
    out += '-';
  }
  if (integer.empty()) {
    out += '0';
  } else {
    out.append(integer);
  }
  if (!fraction.empty()) {
    out += '.';
    out.append(fraction);
  }
  if (!zero && !exponent.empty()) {
    out += 'e';
    if (negative_exponent) {
      out += '-';
    }
    out.append(exponent);
  }
  return value_check{};
}

value_check normalise_enumeration(const property_definition& property, std::string_view value,
                                  std::string& out) {
  for (const std::string& option : property.options) {
    if (equal_ignoring_ascii_case(option, value)) {
      out = option;
      return value_check{};
    }
  }
  return invalid(row_error_kind::invalid_option, "the value is not one of the property's options");
}

}  // namespace

std::string_view to_string(date_format format) {
  switch (format) {
    case date_format::year_month_day:
      return "YYYY-MM-DD";
    case date_format::day_month_year:
      return "DD/MM/YYYY";
    case date_format::month_day_year:
      return "MM/DD/YYYY";
  }
  return "unknown";
}

std::optional<date_format> parse_date_format(std::string_view name) {
  for (const date_format format :
       {date_format::year_month_day, date_format::day_month_year, date_format::month_day_year}) {
    if (to_string(format) == name) {
      return format;
    }
  }
  return std::nullopt;
}

std::string_view trim_ascii_whitespace(std::string_view text) {
  while (!text.empty() && is_ascii_whitespace(text.front())) {
    text.remove_prefix(1);
  }
  while (!text.empty() && is_ascii_whitespace(text.back())) {
    text.remove_suffix(1);
  }
  return text;
}

bool is_blank(std::string_view text) {
  return std::all_of(text.begin(), text.end(), is_ascii_whitespace);
}

value_check normalise_property_value(const property_definition& property, std::string_view cell,
                                     date_format dates, std::string& out) {
  out.clear();
  if (property.type == property_type::string) {
    if (is_blank(cell)) {
      return empty_value();
    }
    out.assign(cell);
    return value_check{};
  }

  const std::string_view value = trim_ascii_whitespace(cell);
  if (value.empty()) {
    return empty_value();
  }
  value_check check;
  switch (property.type) {
    case property_type::string:
      break;
    case property_type::email:
      check = normalise_email(value, out);
      break;
    case property_type::phone:
      check = normalise_phone(value, out);
      break;
    case property_type::domain:
      check = normalise_domain(value, out);
      break;
    case property_type::date:
      check = normalise_date(value, dates, out);
      break;
    case property_type::number:
      check = normalise_number(value, out);
      break;
    case property_type::enumeration:
      check = normalise_enumeration(property, value, out);
      break;
  }
  if (check.state != value_state::valid) {
    out.clear();
  }
  return check;
}

}  // namespace jobgate::records
