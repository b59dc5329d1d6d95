#pragma once

#include <string>
#include <string_view>

namespace jobgate::cli {

// Renders an error response for people. A problem document gives its title, type slug and HTTP
// status, its detail, each invalid field with its value, and its other extension members. Any
// other body gives the status and the body's first line. Lines end in '\n', and the first starts
// with "jobgate: ".
std::string render_problem(unsigned status, std::string_view body);

}  // namespace jobgate::cli
