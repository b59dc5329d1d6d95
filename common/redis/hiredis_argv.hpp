#pragma once

#include <cstddef>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/redis/request.hpp"

namespace jobgate::redis {

// The pointer and length arrays that hiredis's *Argv functions take, pointing into arguments that
// the caller keeps alive. Lengths make the call binary-safe.
class hiredis_argv {
 public:
  explicit hiredis_argv(const request& command);
  explicit hiredis_argv(std::span<const std::string_view> arguments);
  explicit hiredis_argv(std::span<const std::string> arguments);

  int count() const noexcept { return static_cast<int>(pointers_.size()); }
  const char** pointers() noexcept { return pointers_.data(); }
  const std::size_t* lengths() const noexcept { return lengths_.data(); }

 private:
  void add(std::string_view argument);

  std::vector<const char*> pointers_;
  std::vector<std::size_t> lengths_;
};

}  // namespace jobgate::redis
