#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/jobs/job.hpp"

namespace jobgate {
class settings_reader;
}

namespace jobgate::tenants {

// The limits and quotas of one tenant. The member initializers are the defaults of every
// deployment. A daemon's settings replace them for all its tenants, and a tenant record in Redis
// replaces single fields for one tenant. A value of 0 turns a rate, quota or cap off, except for
// the bursts, which are at least 1.
struct tenant_limits {
  // Request rates per API key, in requests per second, and the requests allowed at once.
  std::int64_t submit_rate_limit = 10;
  std::int64_t submit_burst = 100;
  std::int64_t read_rate_limit = 50;
  std::int64_t read_burst = 500;
  // Size limits of one import.
  std::int64_t max_upload_bytes = 1024LL * 1024 * 1024;
  std::int64_t max_rows_per_file = 1'048'576;
  // Daily quotas, counted per UTC day.
  std::int64_t rows_per_day = 10'000'000;
  std::int64_t exports_per_day = 1'000;
  // Jobs of one kind that run at once; further jobs wait as PENDING.
  std::int64_t running_imports = 2;
  std::int64_t running_exports = 2;

  // The running-jobs cap of a job kind.
  std::int64_t running_cap(job_kind kind) const {
    return kind == job_kind::imports ? running_imports : running_exports;
  }
};

// The daemon that applies a field: the gateway checks requests, the workers cap running jobs.
enum class limit_owner { gateway, worker };

// One field of tenant_limits: its name as a setting, as a tenant record field and in problem
// documents, its bounds and its meaning.
struct limit_field {
  std::string_view name;
  std::int64_t tenant_limits::*member;
  std::int64_t min;
  std::int64_t max;
  std::string_view unit;
  std::string_view help;
  limit_owner owner;
};

// Every field of tenant_limits, in declaration order.
std::span<const limit_field> limit_fields();

// The field with this name, or nullptr.
const limit_field* find_limit_field(std::string_view name);

// Reads the deployment defaults of the fields that `owner` applies, as settings of that daemon.
void read_limit_settings(settings_reader& reader, limit_owner owner, tenant_limits& limits);

// The fields that `owner` applies as " name=value" pairs, for a start-up log line.
std::string describe_limits(const tenant_limits& limits, limit_owner owner);

// Replaces the fields named in a tenant record. Returns a sentence naming the first unknown field
// or out-of-range value; the fields before it stay applied.
std::optional<std::string> apply_overrides(
    tenant_limits& limits, const std::vector<std::pair<std::string, std::string>>& fields);

}  // namespace jobgate::tenants
