#include "common/redis/reply_view.hpp"

#include <hiredis/hiredis.h>

namespace jobgate::redis {

reply_kind reply_view::kind() const noexcept {
  if (node_ == nullptr) {
    return reply_kind::nil;
  }
  switch (node_->type) {
    case REDIS_REPLY_INTEGER:
      return reply_kind::integer;
    case REDIS_REPLY_STRING:
      return reply_kind::string;
    case REDIS_REPLY_STATUS:
      return reply_kind::status;
    case REDIS_REPLY_ERROR:
      return reply_kind::error;
    case REDIS_REPLY_ARRAY:
      return reply_kind::array;
    default:
      return reply_kind::nil;
  }
}

std::string_view reply_view::text() const noexcept {
  switch (kind()) {
    case reply_kind::string:
    case reply_kind::status:
    case reply_kind::error:
      return node_->str == nullptr ? std::string_view{} : std::string_view(node_->str, node_->len);
    default:
      return {};
  }
}

long long reply_view::integer() const noexcept {
  return kind() == reply_kind::integer ? node_->integer : 0;
}

std::string_view reply_view::error_prefix() const noexcept {
  if (!is_error()) {
    return {};
  }
  const std::string_view message = text();
  return message.substr(0, message.find(' '));
}

std::size_t reply_view::size() const noexcept {
  return kind() == reply_kind::array && node_->element != nullptr ? node_->elements : 0;
}

reply_view reply_view::operator[](std::size_t index) const noexcept {
  if (index >= size()) {
    return reply_view{};
  }
  return reply_view{node_->element[index]};
}

reply_view::iterator reply_view::begin() const noexcept {
  return iterator{*this, 0};
}

reply_view::iterator reply_view::end() const noexcept {
  return iterator{*this, size()};
}

std::vector<std::pair<std::string, std::string>> hash_field_pairs(reply_view fields) {
  std::vector<std::pair<std::string, std::string>> pairs;
  pairs.reserve(fields.size() / 2);
  for (std::size_t i = 0; i + 1 < fields.size(); i += 2) {
    pairs.emplace_back(fields[i].text(), fields[i + 1].text());
  }
  return pairs;
}

}  // namespace jobgate::redis
