#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <string_view>

#include "common/redis/connection.hpp"

namespace jobgate::test {

// A redis-server child process on 127.0.0.1 with its own temporary directory and no persistence,
// for tests that must stop, restart or configure a server. The constructor starts it and waits
// until it accepts connections; the destructor stops it and removes the directory. Setup failures
// throw std::runtime_error. If the test process dies, the kernel sends the server SIGTERM.
class redis_test_server {
 public:
  // An empty password starts the server without requirepass.
  explicit redis_test_server(std::string password = {});
  ~redis_test_server();

  redis_test_server(const redis_test_server&) = delete;
  redis_test_server& operator=(const redis_test_server&) = delete;

  std::uint16_t port() const noexcept { return port_; }
  // redis://[:password@]127.0.0.1:port
  std::string url() const;

  // Kills the server with SIGKILL, as a crash would, and waits for it to exit.
  void kill();
  // Starts the server again on the same port and waits until it accepts connections.
  void restart();

 private:
  bool launch();
  bool wait_until_accepting();
  void stop(int signal_number);

  std::string password_;
  std::string directory_;
  std::uint16_t port_ = 0;
  pid_t pid_ = -1;
};

// The Redis URL that tests share: JOBGATE_TEST_REDIS_URL when set, otherwise the URL of a server
// started on first use and stopped when the test process exits.
std::string shared_redis_url();

// A blocking connection to shared_redis_url(). Throws std::runtime_error when it fails.
redis::connection connect_shared_redis();

// "PREFIX-PID-RUN-N": a name no other test and no earlier run uses, for tenants and keys.
std::string unique_name(std::string_view prefix);

// A port on 127.0.0.1 that nothing listened on a moment ago.
std::uint16_t unused_local_port();

}  // namespace jobgate::test
