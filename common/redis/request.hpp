#pragma once

#include <charconv>
#include <concepts>
#include <cstddef>
#include <initializer_list>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace jobgate::redis {

// A type that make_request() and the variadic command functions accept as one argument: anything
// convertible to std::string_view, or an integer, which is sent in decimal.
template <typename T>
concept request_argument = std::convertible_to<const T&, std::string_view> ||
    (std::integral<T> && !std::same_as<T, bool> && !std::same_as<T, char>);

// One Redis command as a list of arguments, the first being the command name. Arguments are copied
// into one buffer with their lengths, so any bytes pass unchanged, NUL included.
class request {
 public:
  request() = default;
  request(std::initializer_list<std::string_view> arguments);
  explicit request(std::span<const std::string_view> arguments);
  explicit request(std::span<const std::string> arguments);

  request& push_back(std::string_view argument);
  // Appends the decimal form of value, as Redis expects numbers.
  template <typename Integer>
  requires(std::integral<Integer> && !std::same_as<Integer, bool> &&
           !std::same_as<Integer, char>) request& push_back(Integer value) {
    char digits[24];
    const auto result = std::to_chars(digits, digits + sizeof digits, value);
    return push_back(std::string_view(digits, static_cast<std::size_t>(result.ptr - digits)));
  }
  void reserve(std::size_t arguments, std::size_t bytes);

  std::size_t size() const noexcept { return ends_.size(); }
  bool empty() const noexcept { return ends_.empty(); }
  std::string_view operator[](std::size_t index) const noexcept;
  // The command name; empty for an empty request.
  std::string_view name() const noexcept { return empty() ? std::string_view{} : (*this)[0]; }

 private:
  std::string bytes_;
  std::vector<std::size_t> ends_;
};

// Builds a request from separate arguments: make_request("HSET", key, "attempts", 3).
template <request_argument... Arguments>
request make_request(const Arguments&... arguments) {
  request command;
  command.reserve(sizeof...(arguments), 0);
  (command.push_back(arguments), ...);
  return command;
}

}  // namespace jobgate::redis
