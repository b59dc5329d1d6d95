#pragma once

#include <optional>
#include <string_view>
#include <vector>

namespace jobgate::ui {

// Returns the content of a dashboard file from the ui/ folder, embedded at build time, by its path
// relative to that folder (for example "pages/overview.js").
std::optional<std::string_view> find_file(std::string_view name);

// Returns the paths of every embedded dashboard file, relative to the ui/ folder.
std::vector<std::string_view> file_names();

}  // namespace jobgate::ui
