#include <catch2/catch.hpp>
#include <string>

#include "common/records/property_value.hpp"

using namespace jobgate::records;

namespace {

struct outcome {
  value_state state;
  std::string stored;
  row_error_kind error;
};

outcome check_value(property_type type, std::string_view cell,
                    date_format dates = date_format::year_month_day) {
  property_definition property;
  property.name = "p";
  property.type = type;
  property.options = {"subscriber", "lead", "marketingqualifiedlead"};
  std::string out;
  const value_check check = normalise_property_value(property, cell, dates, out);
  if (check.state == value_state::invalid) {
    CHECK_FALSE(check.detail.empty());
    CHECK(out.empty());
  }
  return outcome{check.state, out, check.error};
}

std::string stored(property_type type, std::string_view cell,
                   date_format dates = date_format::year_month_day) {
  const outcome result = check_value(type, cell, dates);
  INFO("cell '" << cell << "'");
  CHECK(result.state == value_state::valid);
  return result.stored;
}

bool rejected(property_type type, std::string_view cell, row_error_kind kind,
              date_format dates = date_format::year_month_day) {
  const outcome result = check_value(type, cell, dates);
  return result.state == value_state::invalid && result.error == kind;
}

bool empty(property_type type, std::string_view cell) {
  return check_value(type, cell).state == value_state::empty;
}

}  // namespace

TEST_CASE("string values keep spelling", "[records]") {
  CHECK(stored(property_type::string, "  Smith, Jr. ") == "  Smith, Jr. ");
  CHECK(stored(property_type::string, "Met at expo.\r\nWants a demo") ==
        "Met at expo.\r\nWants a demo");
  CHECK(empty(property_type::string, ""));
  CHECK(empty(property_type::string, " \t \r\n"));
}

TEST_CASE("email values are normalised", "[records]") {
  CHECK(stored(property_type::email, "  tom@example.com  ") == "tom@example.com");
  CHECK(stored(property_type::email, " Jo.Park@Example.COM ") == "jo.park@example.com");
  CHECK(stored(property_type::email, "first.last+tag@sub.example.co.uk") ==
        "first.last+tag@sub.example.co.uk");
  CHECK(stored(property_type::email, "o'brien@example.ie") == "o'brien@example.ie");
  CHECK(stored(property_type::email,
               "j\xC3\xBCrgen@b\xC3\xBC"
               "cher.de") ==
        "j\xC3\xBCrgen@b\xC3\xBC"
        "cher.de");
  CHECK(empty(property_type::email, "   "));
}

TEST_CASE("email values reject bad forms", "[records]") {
  const auto kind = row_error_kind::invalid_email;
  CHECK(rejected(property_type::email, "frank(at)example.com", kind));
  CHECK(rejected(property_type::email, "uma@example,com", kind));
  CHECK(rejected(property_type::email, "val@example.com wes@example.com", kind));
  CHECK(rejected(property_type::email, "xen@example", kind));
  CHECK(rejected(property_type::email, "a@b@example.com", kind));
  CHECK(rejected(property_type::email, "@example.com", kind));
  CHECK(rejected(property_type::email, "ana@", kind));
  CHECK(rejected(property_type::email, ".ana@example.com", kind));
  CHECK(rejected(property_type::email, "ana..lima@example.com", kind));
  CHECK(rejected(property_type::email, "ana@example..com", kind));
  CHECK(rejected(property_type::email, "ana@-example.com", kind));
  CHECK(rejected(property_type::email, "ana@example.c", kind));
  CHECK(rejected(property_type::email, "ana@127.0.0.1", kind));
  CHECK(rejected(property_type::email, "ana@exa_mple.com", kind));
  CHECK(rejected(property_type::email, "\"ana\"@example.com", kind));
  CHECK(rejected(property_type::email, "Ana Lima <ana@example.com>", kind));
  CHECK(rejected(property_type::email, "ana@example.com;ben@example.com", kind));
  CHECK(rejected(property_type::email, std::string(65, 'a') + "@example.com", kind));
}

TEST_CASE("phone values stay as written", "[records]") {
  CHECK(stored(property_type::phone, "0612345678") == "0612345678");
  CHECK(stored(property_type::phone, " +44 20 7946 0018 ") == "+44 20 7946 0018");
  CHECK(stored(property_type::phone, "+1 (415) 555-0132") == "+1 (415) 555-0132");
  CHECK(stored(property_type::phone, "(971)643-6089x9160") == "(971)643-6089x9160");
  CHECK(stored(property_type::phone, "001-084-906-7849x73518") == "001-084-906-7849x73518");
  CHECK(stored(property_type::phone, "ext 5") == "ext 5");
  const auto kind = row_error_kind::invalid_phone;
  CHECK(rejected(property_type::phone, "4.4207946E+11", kind));
  CHECK(rejected(property_type::phone, "4,42E+11", kind));
  CHECK(rejected(property_type::phone, "1e10", kind));
  CHECK(rejected(property_type::phone, "-3.1E-5", kind));
  CHECK(rejected(property_type::phone, "n/a", kind));
  CHECK(rejected(property_type::phone, "+", kind));
  CHECK(empty(property_type::phone, " "));
}

TEST_CASE("domain values are normalised", "[records]") {
  CHECK(stored(property_type::domain, "example.com") == "example.com");
  CHECK(stored(property_type::domain, " HTTPS://WWW.Example.COM/about?x=1#top ") == "example.com");
  CHECK(stored(property_type::domain, "http://shop.example.co.uk:8080/") == "shop.example.co.uk");
  CHECK(stored(property_type::domain, "www.example.org.") == "example.org");
  CHECK(stored(property_type::domain, "//cdn.example.net/x") == "cdn.example.net");
  CHECK(stored(property_type::domain, "www.com") == "www.com");
  CHECK(stored(property_type::domain, "xn--bcher-kva.example") == "xn--bcher-kva.example");
  CHECK(stored(property_type::domain,
               "b\xC3\xBC"
               "cher.de") ==
        "b\xC3\xBC"
        "cher.de");
  const auto kind = row_error_kind::invalid_domain;
  CHECK(rejected(property_type::domain, "localhost", kind));
  CHECK(rejected(property_type::domain, "https://", kind));
  CHECK(rejected(property_type::domain, "exa mple.com", kind));
  CHECK(rejected(property_type::domain, "-example.com", kind));
  CHECK(rejected(property_type::domain, "example..com", kind));
  CHECK(rejected(property_type::domain, "192.168.0.1", kind));
  CHECK(rejected(property_type::domain, "example.com:http", kind));
  CHECK(rejected(property_type::domain, "ana@example.com", kind));
  CHECK(rejected(property_type::domain, std::string(64, 'a') + ".com", kind));
}

TEST_CASE("date values by format", "[records]") {
  CHECK(stored(property_type::date, "2024-02-29") == "2024-02-29");
  CHECK(stored(property_type::date, " 1921-08-17 ") == "1921-08-17");
  CHECK(stored(property_type::date, "31/12/2023", date_format::day_month_year) == "2023-12-31");
  CHECK(stored(property_type::date, "1/2/2023", date_format::day_month_year) == "2023-02-01");
  CHECK(stored(property_type::date, "8/17/1921", date_format::month_day_year) == "1921-08-17");
  CHECK(stored(property_type::date, "2000-02-29") == "2000-02-29");
  const auto kind = row_error_kind::invalid_date;
  CHECK(rejected(property_type::date, "2023-02-29", kind));
  CHECK(rejected(property_type::date, "1900-02-29", kind));
  CHECK(rejected(property_type::date, "2023-13-01", kind));
  CHECK(rejected(property_type::date, "2023-04-31", kind));
  CHECK(rejected(property_type::date, "0000-01-01", kind));
  CHECK(rejected(property_type::date, "2023-1-05", kind));
  CHECK(rejected(property_type::date, "2023-01-05T10:00:00Z", kind));
  CHECK(rejected(property_type::date, "31/12/2023", kind));
  CHECK(rejected(property_type::date, "2023-12-31", kind, date_format::day_month_year));
  CHECK(rejected(property_type::date, "12/31/2023", kind, date_format::day_month_year));
  CHECK(rejected(property_type::date, "31/12/2023", kind, date_format::month_day_year));
  CHECK(rejected(property_type::date, "1/2/23", kind, date_format::month_day_year));
  CHECK(rejected(property_type::date, "123/1/2023", kind, date_format::day_month_year));
}

TEST_CASE("number values are canonical", "[records]") {
  CHECK(stored(property_type::number, "42") == "42");
  CHECK(stored(property_type::number, " +007 ") == "7");
  CHECK(stored(property_type::number, "-0.50") == "-0.5");
  CHECK(stored(property_type::number, "-0.0") == "0");
  CHECK(stored(property_type::number, ".5") == "0.5");
  CHECK(stored(property_type::number, "5.") == "5");
  CHECK(stored(property_type::number, "1.2E+03") == "1.2e3");
  CHECK(stored(property_type::number, "1e-05") == "1e-5");
  CHECK(stored(property_type::number, "3e0") == "3");
  const auto kind = row_error_kind::invalid_number;
  CHECK(rejected(property_type::number, "1,000", kind));
  CHECK(rejected(property_type::number, "12 345", kind));
  CHECK(rejected(property_type::number, "-", kind));
  CHECK(rejected(property_type::number, ".", kind));
  CHECK(rejected(property_type::number, "1e", kind));
  CHECK(rejected(property_type::number, "ten", kind));
  CHECK(rejected(property_type::number, "0x1F", kind));
}

TEST_CASE("enumeration values match options", "[records]") {
  CHECK(stored(property_type::enumeration, "Lead") == "lead");
  CHECK(stored(property_type::enumeration, " MarketingQualifiedLead ") == "marketingqualifiedlead");
  CHECK(rejected(property_type::enumeration, "customer", row_error_kind::invalid_option));
  CHECK(rejected(property_type::enumeration, "lead ish", row_error_kind::invalid_option));
  CHECK(empty(property_type::enumeration, ""));
}

TEST_CASE("date format names round trip", "[records]") {
  for (const auto format :
       {date_format::year_month_day, date_format::day_month_year, date_format::month_day_year}) {
    CHECK(parse_date_format(to_string(format)) == format);
  }
  CHECK_FALSE(parse_date_format("YYYY/MM/DD"));
}

TEST_CASE("whitespace helpers trim ASCII only", "[records]") {
  CHECK(trim_ascii_whitespace(" \t a b \r\n") == "a b");
  CHECK(trim_ascii_whitespace("\xC2\xA0x") == "\xC2\xA0x");
  CHECK(is_blank(""));
  CHECK(is_blank(" \t\r\n"));
  CHECK_FALSE(is_blank(" x "));
}
