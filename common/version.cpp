#include "common/version.hpp"

namespace jobgate {

std::string_view version() {
  return "0.1.0";
}

}  // namespace jobgate
