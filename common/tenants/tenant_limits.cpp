#include "common/tenants/tenant_limits.hpp"

#include <array>
#include <charconv>

#include "common/config/settings_reader.hpp"

namespace jobgate::tenants {

namespace {

constexpr std::int64_t max_requests = 1'000'000;
constexpr std::int64_t max_count = 1'000'000'000'000;

constexpr std::array<limit_field, 10> fields = {{
    {"submit-rate-limit", &tenant_limits::submit_rate_limit, 0, max_requests, "requests per second",
     "sustained rate of submissions (POST, PUT, PATCH, DELETE under /v1) per API key",
     limit_owner::gateway},
    {"submit-burst", &tenant_limits::submit_burst, 1, max_requests, "requests",
     "submissions an API key may send at once after a pause", limit_owner::gateway},
    {"read-rate-limit", &tenant_limits::read_rate_limit, 0, max_requests, "requests per second",
     "sustained rate of reads (GET, HEAD under /v1) per API key", limit_owner::gateway},
    {"read-burst", &tenant_limits::read_burst, 1, max_requests, "requests",
     "reads an API key may send at once after a pause", limit_owner::gateway},
    {"max-upload-bytes", &tenant_limits::max_upload_bytes, 1024, 1LL << 40, "bytes",
     "largest import upload accepted", limit_owner::gateway},
    {"max-rows-per-file", &tenant_limits::max_rows_per_file, 0, max_count, "rows",
     "most data rows in one import file", limit_owner::gateway},
    {"rows-per-day", &tenant_limits::rows_per_day, 0, max_count, "rows",
     "import rows a tenant may submit per UTC day", limit_owner::gateway},
    {"exports-per-day", &tenant_limits::exports_per_day, 0, max_count, "exports",
     "exports a tenant may submit per UTC day", limit_owner::gateway},
    {"running-imports", &tenant_limits::running_imports, 0, 10'000, "jobs",
     "imports of one tenant that run at once; further ones wait as PENDING", limit_owner::worker},
    {"running-exports", &tenant_limits::running_exports, 0, 10'000, "jobs",
     "exports of one tenant that run at once; further ones wait as PENDING", limit_owner::worker},
}};

}  // namespace

std::span<const limit_field> limit_fields() {
  return fields;
}

const limit_field* find_limit_field(std::string_view name) {
  for (const auto& field : fields) {
    if (field.name == name) {
      return &field;
    }
  }
  return nullptr;
}

void read_limit_settings(settings_reader& reader, limit_owner owner, tenant_limits& limits) {
  const tenant_limits defaults;
  for (const auto& field : fields) {
    if (field.owner != owner) {
      continue;
    }
    const std::string help = std::string(field.help) +
                             "; the default for tenants without their own" +
                             (field.min == 0 ? ", 0 turns it off" : "");
    limits.*field.member =
        reader.integer(field.name, defaults.*field.member, field.min, field.max, field.unit, help);
  }
}

std::string describe_limits(const tenant_limits& limits, limit_owner owner) {
  std::string text;
  for (const auto& field : fields) {
    if (field.owner == owner) {
      text += " " + std::string(field.name) + "=" + std::to_string(limits.*field.member);
    }
  }
  return text;
}

std::optional<std::string> apply_overrides(
    tenant_limits& limits, const std::vector<std::pair<std::string, std::string>>& record) {
  for (const auto& [name, text] : record) {
    const limit_field* field = find_limit_field(name);
    if (field == nullptr) {
      return "'" + name + "' is not a tenant limit";
    }
    std::int64_t value = 0;
    const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (error != std::errc{} || end != text.data() + text.size() || value < field->min ||
        value > field->max) {
      return "'" + name + "' must be a whole number from " + std::to_string(field->min) + " to " +
             std::to_string(field->max) + ", not '" + text + "'";
    }
    limits.*field->member = value;
  }
  return std::nullopt;
}

}  // namespace jobgate::tenants
