#pragma once

#include <ostream>

#include "common/tenants/tenant_store.hpp"
#include "gateway/admin/admin_arguments.hpp"

namespace jobgate::admin {

// Exit statuses of jobgate-admin.
inline constexpr int exit_success = 0;
inline constexpr int exit_failure = 1;
inline constexpr int exit_usage = 2;

// Runs one command against the store and prints its result to `out` as text or JSON. Failures
// are printed to `err` as one line that names the tenant or key involved. Returns exit_success,
// or exit_failure when the store reported an error.
int run_admin_command(const admin_command& command, tenants::tenant_store& store, std::ostream& out,
                      std::ostream& err);

}  // namespace jobgate::admin
