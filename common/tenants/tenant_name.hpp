#pragma once

#include <string_view>

namespace jobgate::tenants {

// True for 1 to 64 ASCII letters, digits, '-' or '_'. Tenant names appear in Redis keys, blob
// paths and download links, so they are kept plain.
bool is_valid_tenant_name(std::string_view name);

}  // namespace jobgate::tenants
