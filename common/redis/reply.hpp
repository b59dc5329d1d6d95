#pragma once

#include <cstddef>
#include <string_view>

#include "common/redis/reply_view.hpp"

struct redisReply;

namespace jobgate::redis {

// Owns one hiredis reply tree (a redisReply* and everything below it) and frees it with
// freeReplyObject. Move-only; a moved-from or default-constructed reply behaves as nil.
// Views and text() results point into the tree and stay valid while this object owns it.
class reply {
 public:
  reply() noexcept = default;
  // Takes ownership of a tree that hiredis returned from a synchronous call.
  explicit reply(redisReply* owned) noexcept : root_(owned) {}
  ~reply();

  reply(reply&& other) noexcept;
  reply& operator=(reply&& other) noexcept;
  reply(const reply&) = delete;
  reply& operator=(const reply&) = delete;

  // Deep-copies a tree that hiredis still owns, such as the reply passed to an async callback.
  // Throws std::bad_alloc when memory runs out.
  static reply copy_of(const redisReply* source);

  reply_view view() const noexcept { return reply_view{root_}; }

  reply_kind kind() const noexcept { return view().kind(); }
  bool is_nil() const noexcept { return view().is_nil(); }
  bool is_integer() const noexcept { return view().is_integer(); }
  bool is_string() const noexcept { return view().is_string(); }
  bool is_status() const noexcept { return view().is_status(); }
  bool is_error() const noexcept { return view().is_error(); }
  bool is_array() const noexcept { return view().is_array(); }

  std::string_view text() const noexcept { return view().text(); }
  long long integer() const noexcept { return view().integer(); }
  std::string_view error_prefix() const noexcept { return view().error_prefix(); }
  std::size_t size() const noexcept { return view().size(); }
  reply_view operator[](std::size_t index) const noexcept { return view()[index]; }
  reply_view::iterator begin() const noexcept { return view().begin(); }
  reply_view::iterator end() const noexcept { return view().end(); }

 private:
  redisReply* root_ = nullptr;
};

}  // namespace jobgate::redis
