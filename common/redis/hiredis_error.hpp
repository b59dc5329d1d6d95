#pragma once

#include <boost/system/error_code.hpp>

namespace jobgate::redis {

// Maps a hiredis context error (redisContext::err, a REDIS_ERR_* value) and the errno saved right
// after the failing call to an errc. While connecting, REDIS_ERR_OTHER comes from the name lookup.
boost::system::error_code hiredis_error_code(int context_error, int saved_errno,
                                             bool while_connecting) noexcept;

}  // namespace jobgate::redis
