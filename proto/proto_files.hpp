#pragma once

#include <optional>
#include <string_view>

namespace jobgate::proto {

// Returns the content of a file from the proto/ folder, embedded at build time, by its path
// relative to that folder (for example "schemas/import-request.schema.json").
std::optional<std::string_view> find_file(std::string_view name);

}  // namespace jobgate::proto
