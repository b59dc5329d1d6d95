#pragma once

#include <string>

#include "common/records/row_error.hpp"

namespace jobgate::records {

// Serialises a rejected row as the JSON object the errors endpoint and dry runs return.
std::string row_error_json(const row_error& error);

}  // namespace jobgate::records
