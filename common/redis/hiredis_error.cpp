#include "common/redis/hiredis_error.hpp"

#include <hiredis/hiredis.h>

#include <cerrno>

#include "common/redis/error.hpp"

namespace jobgate::redis {

boost::system::error_code hiredis_error_code(int context_error, int saved_errno,
                                             bool while_connecting) noexcept {
  switch (context_error) {
    case REDIS_ERR_IO:
      switch (saved_errno) {
        // A blocking context reports an expired SO_RCVTIMEO or SO_SNDTIMEO as EAGAIN.
        case EAGAIN:
        case ETIMEDOUT:
        case EINPROGRESS:
          return errc::timeout;
        case ECONNREFUSED:
        case EHOSTUNREACH:
        case ENETUNREACH:
          return while_connecting ? errc::connection_refused : errc::connection_lost;
        default:
          return errc::connection_lost;
      }
    case REDIS_ERR_EOF:
      return errc::connection_lost;
    case REDIS_ERR_PROTOCOL:
      return errc::protocol_error;
    case REDIS_ERR_OOM:
      return errc::out_of_memory;
    case REDIS_ERR_OTHER:
      return while_connecting ? errc::resolve_failed : errc::connection_lost;
    default:
      return errc::connection_lost;
  }
}

}  // namespace jobgate::redis
