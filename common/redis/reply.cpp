#include "common/redis/reply.hpp"

#include <hiredis/hiredis.h>

#include <cstdlib>
#include <cstring>
#include <new>
#include <utility>

namespace jobgate::redis {

namespace {

// Copies one node with malloc/calloc, the allocator freeReplyObject (hiredis 0.14.1) frees with.
// Returns nullptr when memory runs out; a partial tree is already freed then.
redisReply* copy_node(const redisReply* source) {
  if (source == nullptr) {
    return nullptr;
  }
  auto* copy = static_cast<redisReply*>(std::calloc(1, sizeof(redisReply)));
  if (copy == nullptr) {
    return nullptr;
  }
  copy->type = source->type;
  copy->integer = source->integer;

  switch (source->type) {
    case REDIS_REPLY_STRING:
    case REDIS_REPLY_STATUS:
    case REDIS_REPLY_ERROR: {
      copy->str = static_cast<char*>(std::malloc(source->len + 1));
      if (copy->str == nullptr) {
        std::free(copy);
        return nullptr;
      }
      if (source->len > 0) {
        std::memcpy(copy->str, source->str, source->len);
      }
      copy->str[source->len] = '\0';
      copy->len = source->len;
      break;
    }
    case REDIS_REPLY_ARRAY: {
      if (source->elements == 0 || source->element == nullptr) {
        break;
      }
      copy->element = static_cast<redisReply**>(std::calloc(source->elements, sizeof(redisReply*)));
      if (copy->element == nullptr) {
        std::free(copy);
        return nullptr;
      }
      // Counted before the children exist, so freeReplyObject can free a partial copy.
      copy->elements = source->elements;
      for (std::size_t i = 0; i < source->elements; ++i) {
        if (source->element[i] == nullptr) {
          continue;
        }
        copy->element[i] = copy_node(source->element[i]);
        if (copy->element[i] == nullptr) {
          freeReplyObject(copy);
          return nullptr;
        }
      }
      break;
    }
    default:
      break;
  }
  return copy;
}

}  // namespace

reply::~reply() {
  if (root_ != nullptr) {
    freeReplyObject(root_);
  }
}

reply::reply(reply&& other) noexcept : root_(std::exchange(other.root_, nullptr)) {}

reply& reply::operator=(reply&& other) noexcept {
  if (this != &other) {
    if (root_ != nullptr) {
      freeReplyObject(root_);
    }
    root_ = std::exchange(other.root_, nullptr);
  }
  return *this;
}

reply reply::copy_of(const redisReply* source) {
  if (source == nullptr) {
    return reply{};
  }
  redisReply* copy = copy_node(source);
  if (copy == nullptr) {
    throw std::bad_alloc();
  }
  return reply{copy};
}

}  // namespace jobgate::redis
