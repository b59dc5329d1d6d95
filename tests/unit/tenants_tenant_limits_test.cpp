#include <catch2/catch.hpp>
#include <set>
#include <string>

#include "common/tenants/tenant_limits.hpp"

using jobgate::tenants::apply_overrides;
using jobgate::tenants::find_limit_field;
using jobgate::tenants::limit_fields;
using jobgate::tenants::tenant_limits;

TEST_CASE("every limit field has a unique name and its default within bounds", "[tenants]") {
  const tenant_limits defaults;
  std::set<std::string_view> names;
  for (const auto& field : limit_fields()) {
    CHECK(names.insert(field.name).second);
    CHECK(defaults.*field.member >= field.min);
    CHECK(defaults.*field.member <= field.max);
    CHECK(find_limit_field(field.name) == &field);
  }
  CHECK(names.size() == 10);
  CHECK(find_limit_field("rows-per-week") == nullptr);
}

TEST_CASE("overrides replace single fields", "[tenants]") {
  tenant_limits limits;
  REQUIRE_FALSE(apply_overrides(limits, {{"running-imports", "5"}, {"rows-per-day", "0"}}));
  CHECK(limits.running_imports == 5);
  CHECK(limits.running_cap(jobgate::job_kind::imports) == 5);
  CHECK(limits.running_cap(jobgate::job_kind::exports) == tenant_limits{}.running_exports);
  CHECK(limits.rows_per_day == 0);
  CHECK(limits.submit_rate_limit == tenant_limits{}.submit_rate_limit);
}

TEST_CASE("overrides out of range or unknown are named", "[tenants]") {
  tenant_limits limits;
  auto error = apply_overrides(limits, {{"submit-burst", "0"}});
  REQUIRE(error);
  CHECK(*error == "'submit-burst' must be a whole number from 1 to 1000000, not '0'");
  error = apply_overrides(limits, {{"exports-per-day", "12x"}});
  REQUIRE(error);
  CHECK(error->find("'exports-per-day'") == 0);
  error = apply_overrides(limits, {{"colour", "blue"}});
  REQUIRE(error);
  CHECK(*error == "'colour' is not a tenant limit");
  CHECK(limits.submit_burst == tenant_limits{}.submit_burst);
}
