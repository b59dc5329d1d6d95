#pragma once

#include <cstddef>
#include <iterator>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

struct redisReply;

namespace jobgate::redis {

// The RESP2 reply types that hiredis 0.14 produces.
enum class reply_kind { nil, integer, string, status, error, array };

// A non-owning view of one node in a reply tree. It stays valid as long as the reply that owns the
// tree is alive and not moved from; copying a view copies a pointer.
class reply_view {
 public:
  class iterator;

  // A view of nothing behaves as a nil reply.
  reply_view() noexcept = default;
  explicit reply_view(const redisReply* node) noexcept : node_(node) {}

  reply_kind kind() const noexcept;
  bool is_nil() const noexcept { return kind() == reply_kind::nil; }
  bool is_integer() const noexcept { return kind() == reply_kind::integer; }
  bool is_string() const noexcept { return kind() == reply_kind::string; }
  bool is_status() const noexcept { return kind() == reply_kind::status; }
  bool is_error() const noexcept { return kind() == reply_kind::error; }
  bool is_array() const noexcept { return kind() == reply_kind::array; }

  // The bytes of a string, status or error reply (may contain NUL); empty for other kinds.
  std::string_view text() const noexcept;

  // The value of an integer reply; 0 for other kinds.
  long long integer() const noexcept;

  // The first word of an error reply, such as "WRONGTYPE" or "NOSCRIPT"; empty for other kinds.
  std::string_view error_prefix() const noexcept;

  // The number of elements of an array reply; 0 for other kinds.
  std::size_t size() const noexcept;

  // Element of an array reply. Out of range, or on a reply that is no array, it is a nil view,
  // because the shape of a reply is input from the server and not an invariant.
  reply_view operator[](std::size_t index) const noexcept;

  iterator begin() const noexcept;
  iterator end() const noexcept;

  const redisReply* native() const noexcept { return node_; }

 private:
  const redisReply* node_ = nullptr;
};

// Random access over the elements of an array reply, yielding reply_view values.
class reply_view::iterator {
 public:
  using iterator_category = std::random_access_iterator_tag;
  using value_type = reply_view;
  using difference_type = std::ptrdiff_t;
  using pointer = void;
  using reference = reply_view;

  iterator() noexcept = default;
  iterator(reply_view parent, std::size_t index) noexcept : parent_(parent), index_(index) {}

  reply_view operator*() const noexcept { return parent_[index_]; }
  reply_view operator[](difference_type offset) const noexcept {
    return parent_[index_ + static_cast<std::size_t>(offset)];
  }

  iterator& operator++() noexcept {
    ++index_;
    return *this;
  }
  iterator operator++(int) noexcept {
    iterator old = *this;
    ++index_;
    return old;
  }
  iterator& operator--() noexcept {
    --index_;
    return *this;
  }
  iterator operator--(int) noexcept {
    iterator old = *this;
    --index_;
    return old;
  }
  iterator& operator+=(difference_type offset) noexcept {
    index_ += static_cast<std::size_t>(offset);
    return *this;
  }
  iterator& operator-=(difference_type offset) noexcept {
    index_ -= static_cast<std::size_t>(offset);
    return *this;
  }
  friend iterator operator+(iterator it, difference_type offset) noexcept { return it += offset; }
  friend iterator operator+(difference_type offset, iterator it) noexcept { return it += offset; }
  friend iterator operator-(iterator it, difference_type offset) noexcept { return it -= offset; }
  friend difference_type operator-(const iterator& a, const iterator& b) noexcept {
    return static_cast<difference_type>(a.index_) - static_cast<difference_type>(b.index_);
  }
  friend bool operator==(const iterator& a, const iterator& b) noexcept {
    return a.index_ == b.index_;
  }
  friend auto operator<=>(const iterator& a, const iterator& b) noexcept {
    return a.index_ <=> b.index_;
  }

 private:
  reply_view parent_;
  std::size_t index_ = 0;
};

// The field and value pairs of an HGETALL reply, copied. Empty for a reply that is no array; a
// last element without a partner is dropped.
std::vector<std::pair<std::string, std::string>> hash_field_pairs(reply_view fields);

}  // namespace jobgate::redis
