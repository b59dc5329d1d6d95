#pragma once

#include <string_view>

namespace jobgate {

std::string_view version();

}  // namespace jobgate
