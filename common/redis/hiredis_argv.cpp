#include "common/redis/hiredis_argv.hpp"

namespace jobgate::redis {

hiredis_argv::hiredis_argv(const request& command) {
  pointers_.reserve(command.size());
  lengths_.reserve(command.size());
  for (std::size_t i = 0; i < command.size(); ++i) {
    add(command[i]);
  }
}

hiredis_argv::hiredis_argv(std::span<const std::string_view> arguments) {
  pointers_.reserve(arguments.size());
  lengths_.reserve(arguments.size());
  for (const std::string_view argument : arguments) {
    add(argument);
  }
}

hiredis_argv::hiredis_argv(std::span<const std::string> arguments) {
  pointers_.reserve(arguments.size());
  lengths_.reserve(arguments.size());
  for (const std::string& argument : arguments) {
    add(argument);
  }
}

void hiredis_argv::add(std::string_view argument) {
  // An empty string_view may carry a null pointer, and hiredis passes it to memcpy.
  pointers_.push_back(argument.empty() ? "" : argument.data());
  lengths_.push_back(argument.size());
}

}  // namespace jobgate::redis
