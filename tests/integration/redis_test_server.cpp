#include "redis_test_server.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>
#include <stdexcept>
#include <thread>
#include <vector>

namespace jobgate::test {

namespace {

// hiredis 0.14 sends with write(2), so a write to a server that just died raises SIGPIPE. That
// would end the test process, so the tests ignore it, as any process using hiredis must.
const bool sigpipe_ignored = [] {
  std::signal(SIGPIPE, SIG_IGN);
  return true;
}();

constexpr auto start_timeout = std::chrono::seconds(10);
constexpr auto stop_timeout = std::chrono::seconds(5);

sockaddr_in loopback(std::uint16_t port) {
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(port);
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  return address;
}

bool accepts_connections(std::uint16_t port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    return false;
  }
  const sockaddr_in address = loopback(port);
  const bool connected =
      ::connect(fd, reinterpret_cast<const sockaddr*>(&address), sizeof address) == 0;
  ::close(fd);
  return connected;
}

std::string read_log_tail(const std::string& path) {
  std::ifstream file(path);
  std::stringstream content;
  content << file.rdbuf();
  std::string text = content.str();
  constexpr std::size_t tail = 2000;
  return text.size() > tail ? text.substr(text.size() - tail) : text;
}

}  // namespace

std::uint16_t unused_local_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    throw std::runtime_error("socket() failed while looking for a free port");
  }
  sockaddr_in address = loopback(0);
  socklen_t length = sizeof address;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0 ||
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length) != 0) {
    ::close(fd);
    throw std::runtime_error("binding 127.0.0.1:0 failed while looking for a free port");
  }
  ::close(fd);
  return ntohs(address.sin_port);
}

redis_test_server::redis_test_server(std::string password) : password_(std::move(password)) {
  std::string pattern = (std::filesystem::temp_directory_path() / "jobgate-redis-XXXXXX").string();
  if (::mkdtemp(pattern.data()) == nullptr) {
    throw std::runtime_error("mkdtemp failed for the Redis test server directory");
  }
  directory_ = pattern;

  // Another process may take the port between the probe and redis-server's bind: try a few.
  for (int attempt = 0; attempt < 5; ++attempt) {
    port_ = unused_local_port();
    if (launch() && wait_until_accepting()) {
      return;
    }
    stop(SIGKILL);
  }
  const std::string log = read_log_tail(directory_ + "/redis.log");
  std::filesystem::remove_all(directory_);
  throw std::runtime_error("redis-server did not start; its log ends with:\n" + log);
}

redis_test_server::~redis_test_server() {
  stop(SIGTERM);
  std::error_code ignored;
  std::filesystem::remove_all(directory_, ignored);
}

std::string redis_test_server::url() const {
  std::string result = "redis://";
  if (!password_.empty()) {
    result += ':' + password_ + '@';
  }
  return result + "127.0.0.1:" + std::to_string(port_);
}

void redis_test_server::kill() {
  stop(SIGKILL);
}

void redis_test_server::restart() {
  if (!launch() || !wait_until_accepting()) {
    throw std::runtime_error("redis-server did not restart on port " + std::to_string(port_) +
                             "; its log ends with:\n" + read_log_tail(directory_ + "/redis.log"));
  }
}

bool redis_test_server::launch() {
  // Everything the child needs is built before fork(), which then only calls exec-safe functions.
  std::vector<std::string> arguments = {"redis-server",
                                        "--port",
                                        std::to_string(port_),
                                        "--bind",
                                        "127.0.0.1",
                                        "--dir",
                                        directory_,
                                        "--logfile",
                                        directory_ + "/redis.log",
                                        "--save",
                                        "",
                                        "--appendonly",
                                        "no",
                                        "--daemonize",
                                        "no",
                                        "--enable-debug-command",
                                        "local"};
  if (!password_.empty()) {
    arguments.insert(arguments.end(), {"--requirepass", password_});
  }
  std::vector<char*> argv;
  for (std::string& argument : arguments) {
    argv.push_back(argument.data());
  }
  argv.push_back(nullptr);

  const pid_t parent = ::getpid();
  const pid_t child = ::fork();
  if (child < 0) {
    return false;
  }
  if (child == 0) {
    ::prctl(PR_SET_PDEATHSIG, SIGTERM);
    if (::getppid() != parent) {
      ::_exit(127);
    }
    ::execvp("redis-server", argv.data());
    ::_exit(127);
  }
  pid_ = child;
  return true;
}

bool redis_test_server::wait_until_accepting() {
  const auto deadline = std::chrono::steady_clock::now() + start_timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    int status = 0;
    if (::waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      return false;
    }
    if (accepts_connections(port_)) {
      return true;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return false;
}

void redis_test_server::stop(int signal_number) {
  if (pid_ <= 0) {
    return;
  }
  ::kill(pid_, signal_number);
  const auto deadline = std::chrono::steady_clock::now() + stop_timeout;
  int status = 0;
  while (::waitpid(pid_, &status, WNOHANG) == 0) {
    if (std::chrono::steady_clock::now() >= deadline) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, &status, 0);
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  pid_ = -1;
}

std::string shared_redis_url() {
  if (const char* configured = std::getenv("JOBGATE_TEST_REDIS_URL");
      configured != nullptr && *configured != '\0') {
    return configured;
  }
  static const auto server = std::make_unique<redis_test_server>();
  return server->url();
}

redis::connection connect_shared_redis() {
  auto endpoint = redis::parse_redis_url(shared_redis_url());
  if (!endpoint) {
    throw std::runtime_error("invalid Redis URL " + shared_redis_url());
  }
  auto connected = redis::connection::connect(*endpoint);
  if (!connected) {
    throw std::runtime_error("connect to Redis failed: " + connected.error().message());
  }
  return std::move(*connected);
}

std::string unique_name(std::string_view prefix) {
  static std::atomic<int> counter{0};
  static const auto run = std::chrono::steady_clock::now().time_since_epoch().count();
  return std::string(prefix) + "-" + std::to_string(::getpid()) + "-" + std::to_string(run) + "-" +
         std::to_string(counter++);
}

}  // namespace jobgate::test
