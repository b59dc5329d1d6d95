#include "common/tenants/tenant_name.hpp"

#include <algorithm>
#include <cctype>

namespace jobgate::tenants {

bool is_valid_tenant_name(std::string_view name) {
  constexpr std::size_t max_length = 64;
  return !name.empty() && name.size() <= max_length &&
         std::all_of(name.begin(), name.end(), [](char c) {
           return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_';
         });
}

}  // namespace jobgate::tenants
