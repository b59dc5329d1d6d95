#pragma once

#include <string_view>

namespace jobgate::gateway {

// Removes the optional whitespace (spaces and tabs) that HTTP allows around header list members
// and parameters.
std::string_view trim_optional_whitespace(std::string_view text);

}  // namespace jobgate::gateway
