#include "common/redis/request.hpp"

namespace jobgate::redis {

request::request(std::initializer_list<std::string_view> arguments)
    : request(std::span<const std::string_view>(arguments.begin(), arguments.size())) {}

request::request(std::span<const std::string_view> arguments) {
  std::size_t total = 0;
  for (const std::string_view argument : arguments) {
    total += argument.size();
  }
  reserve(arguments.size(), total);
  for (const std::string_view argument : arguments) {
    push_back(argument);
  }
}

request::request(std::span<const std::string> arguments) {
  std::size_t total = 0;
  for (const std::string& argument : arguments) {
    total += argument.size();
  }
  reserve(arguments.size(), total);
  for (const std::string& argument : arguments) {
    push_back(std::string_view(argument));
  }
}

request& request::push_back(std::string_view argument) {
  bytes_.append(argument);
  ends_.push_back(bytes_.size());
  return *this;
}

void request::reserve(std::size_t arguments, std::size_t bytes) {
  ends_.reserve(arguments);
  bytes_.reserve(bytes);
}

std::string_view request::operator[](std::size_t index) const noexcept {
  if (index >= ends_.size()) {
    return {};
  }
  const std::size_t begin = index == 0 ? 0 : ends_[index - 1];
  return std::string_view(bytes_).substr(begin, ends_[index] - begin);
}

}  // namespace jobgate::redis
