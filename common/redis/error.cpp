#include "common/redis/error.hpp"

#include <string>

namespace jobgate::redis {

namespace {

class redis_category final : public boost::system::error_category {
 public:
  const char* name() const noexcept override { return "jobgate.redis"; }

  std::string message(int value) const override {
    switch (static_cast<errc>(value)) {
      case errc::invalid_url_scheme:
        return "invalid Redis URL: the scheme must be redis://";
      case errc::invalid_url_syntax:
        return "invalid Redis URL: expected redis://[[user]:password@]host[:port][/db]";
      case errc::invalid_url_userinfo:
        return "invalid Redis URL: the part before @ must be :password or user:password";
      case errc::invalid_url_host:
        return "invalid Redis URL: the host is missing or invalid";
      case errc::invalid_url_port:
        return "invalid Redis URL: the port must be a number from 1 to 65535";
      case errc::invalid_url_database:
        return "invalid Redis URL: the database must be a number from 0 to 2147483647";
      case errc::resolve_failed:
        return "Redis host name lookup failed";
      case errc::connection_refused:
        return "Redis connection refused";
      case errc::connection_lost:
        return "Redis connection lost";
      case errc::timeout:
        return "Redis request timed out";
      case errc::not_connected:
        return "Redis connection is not established yet; retry later";
      case errc::queue_full:
        return "too many Redis commands pending on one connection";
      case errc::auth_failed:
        return "Redis AUTH failed: check the password in the Redis URL";
      case errc::select_failed:
        return "Redis SELECT failed: check the database number in the Redis URL";
      case errc::protocol_error:
        return "Redis protocol error";
      case errc::out_of_memory:
        return "out of memory in the Redis client";
      case errc::invalid_command:
        return "invalid Redis command: empty, or subscribe or monitor, which need their own "
               "connection";
      case errc::closed:
        return "Redis connection closed by its owner";
      case errc::replies_pending:
        return "Redis commands sent without waiting have unread replies: read them before the "
               "next blocking command";
      case errc::no_reply_pending:
        return "no Redis reply to read: every command sent was answered already";
    }
    return "unknown Redis client error " + std::to_string(value);
  }
};

}  // namespace

const boost::system::error_category& error_category() noexcept {
  static const redis_category instance;
  return instance;
}

boost::system::error_code make_error_code(errc value) noexcept {
  return {static_cast<int>(value), error_category()};
}

bool is_retryable(const boost::system::error_code& error) noexcept {
  if (error.category() != error_category()) {
    return false;
  }
  switch (static_cast<errc>(error.value())) {
    case errc::resolve_failed:
    case errc::connection_refused:
    case errc::connection_lost:
    case errc::timeout:
    case errc::not_connected:
    case errc::queue_full:
      return true;
    default:
      return false;
  }
}

}  // namespace jobgate::redis
