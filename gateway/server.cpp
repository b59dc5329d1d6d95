#include "gateway/server.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <memory>

#include "common/crypto/random.hpp"
#include "gateway/exchange.hpp"
#include "gateway/idle_watchdog.hpp"

namespace jobgate::gateway {

namespace asio = boost::asio;
namespace beast = boost::beast;
using tcp = asio::ip::tcp;

namespace {

constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);
constexpr std::size_t header_limit_bytes = 16 * 1024;
// The first read of a kept-alive connection's next request. Most request headers fit; the header
// reader grows the buffer for the rest.
constexpr std::size_t next_request_read_bytes = 1024;
// The maximum buffer capacity a connection keeps while it waits for its next request.
constexpr std::size_t idle_buffer_limit_bytes = 4 * next_request_read_bytes;

std::string new_request_id() {
  return crypto::random_hex(8);
}

// Counts one request as in progress for its lifetime.
class request_counter {
 public:
  explicit request_counter(std::atomic<std::size_t>& active) : active_(active) { ++active_; }
  ~request_counter() { --active_; }
  request_counter(const request_counter&) = delete;
  request_counter& operator=(const request_counter&) = delete;

 private:
  std::atomic<std::size_t>& active_;
};

// Accepts a client's X-Request-Id when it is short and printable, so logs can be joined across
// systems; otherwise a new id is generated.
std::string request_id_for(const http::request<http::buffer_body>& request) {
  const auto sent_id = request["X-Request-Id"];
  if (!sent_id.empty() && sent_id.size() <= 64) {
    bool printable = true;
    for (const char c : sent_id) {
      printable = printable && c > 0x20 && c < 0x7f && c != '"' && c != '\\';
    }
    if (printable) {
      return std::string(sent_id);
    }
  }
  return new_request_id();
}

// Sends a problem document with Connection: close. The connection closes next whether or not the
// write succeeds.
asio::awaitable<void> send_and_close(beast::tcp_stream& stream, http::status status,
                                     const std::string& body) {
  http::response<http::string_body> response{status, 11};
  response.set(http::field::content_type, "application/problem+json");
  response.set(http::field::connection, "close");
  response.body() = body;
  response.prepare_payload();
  auto [write_error, bytes] = co_await http::async_write(stream, response, use_tuple);
  (void)write_error;
  (void)bytes;
}

// Sends a problem response for a rejected request header; the connection closes after it.
asio::awaitable<void> reject_header(beast::tcp_stream& stream,
                                    const boost::system::error_code& error,
                                    std::uint64_t max_body_bytes) {
  problem reason{problem_kind::invalid_request,
                 "The request header is malformed: " + error.message() + "."};
  if (error == http::error::body_limit) {
    reason = problem{problem_kind::payload_too_large,
                     "The declared body is larger than the maximum of " +
                         std::to_string(max_body_bytes) + " bytes."}
                 .with("maxBytes", std::to_string(max_body_bytes));
  } else if (error == http::error::header_limit) {
    reason =
        problem{problem_kind::header_too_large, "The request header is larger than " +
                                                    std::to_string(header_limit_bytes) + " bytes."};
  }
  const std::string body = problem_body(reason, "");
  co_await send_and_close(stream, describe(reason.kind).status, body);
}

// Sends 408 for a request header that was not complete within header_timeout.
asio::awaitable<void> reject_slow_header(beast::tcp_stream& stream,
                                         std::chrono::seconds header_timeout) {
  const problem reason{problem_kind::request_timeout,
                       "The request header was not complete within " +
                           std::to_string(header_timeout.count()) + " seconds."};
  const std::string body = problem_body(reason, "");
  co_await send_and_close(stream, describe(reason.kind).status, body);
}

// Reads a request header that must be complete within `limit`, however its bytes trickle in.
// Returns beast::error::timeout once the limit passed, with the socket still open for a 408.
asio::awaitable<boost::system::error_code> read_header_within(beast::tcp_stream& stream,
                                                              beast::flat_buffer& buffer,
                                                              exchange::parser_type& parser,
                                                              std::chrono::seconds limit) {
  // A header already complete in the buffer, as a kept-alive client's usually is, is parsed at
  // once, without arming a timer for it. The stream's expiry stays as it was, because every
  // asynchronous operation on the stream sets its own first.
  if (buffer.size() > 0) {
    boost::system::error_code error;
    buffer.consume(parser.put(buffer.data(), error));
    if (error != http::error::need_more && (error || parser.is_header_done())) {
      co_return error;
    }
  }

  // The stream's own deadline would close the socket, so a timer on the connection's executor
  // cancels the read instead. The shared state outlives this frame if the timer handler runs late.
  struct header_watch {
    tcp::socket* socket;
    bool expired = false;
  };
  const auto watch = std::make_shared<header_watch>(header_watch{&stream.socket()});
  asio::steady_timer timer(stream.get_executor(), limit);
  timer.async_wait([watch](const boost::system::error_code& error) {
    if (error || watch->socket == nullptr) {
      return;
    }
    watch->expired = true;
    boost::system::error_code ignored;
    watch->socket->cancel(ignored);
  });

  stream.expires_never();
  auto [error, bytes] = co_await http::async_read_header(stream, buffer, parser, use_tuple);
  watch->socket = nullptr;
  timer.cancel();
  if (error == asio::error::operation_aborted && watch->expired) {
    co_return beast::error::timeout;
  }
  co_return error;
}

}  // namespace

server::server(std::span<asio::io_context* const> contexts, const tcp::endpoint& endpoint,
               router& routes, connection_timeouts timeouts, std::uint64_t max_body_bytes)
    : contexts_(contexts.begin(), contexts.end()),
      acceptor_(*contexts.front()),
      routes_(routes),
      timeouts_(timeouts),
      max_body_bytes_(max_body_bytes) {
  acceptor_.open(endpoint.protocol());
  acceptor_.set_option(asio::socket_base::reuse_address(true));
  acceptor_.bind(endpoint);
  acceptor_.listen(asio::socket_base::max_listen_connections);
}

void server::start() {
  asio::co_spawn(acceptor_.get_executor(), accept_loop(), asio::detached);
}

void server::stop() {
  stopping_.store(true);
  asio::post(acceptor_.get_executor(), [this] {
    boost::system::error_code ignored;
    acceptor_.close(ignored);
  });
}

asio::awaitable<bool> wait_for_requests(const server& http_server,
                                        std::chrono::steady_clock::duration timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  asio::steady_timer poll(co_await asio::this_coro::executor);
  while (http_server.active_requests() > 0) {
    if (std::chrono::steady_clock::now() >= deadline) {
      co_return false;
    }
    poll.expires_after(std::chrono::milliseconds(50));
    co_await poll.async_wait(use_tuple);
  }
  co_return true;
}

std::uint16_t server::port() const {
  return acceptor_.local_endpoint().port();
}

asio::awaitable<void> server::accept_loop() {
  for (;;) {
    auto* target = contexts_[next_context_];
    next_context_ = (next_context_ + 1) % contexts_.size();
    auto [error, socket] = co_await acceptor_.async_accept(target->get_executor(), use_tuple);
    if (error == asio::error::operation_aborted || !acceptor_.is_open()) {
      co_return;
    }
    if (error) {
      // Running out of descriptors is the usual cause; a short pause keeps the loop from spinning.
      log::logger{}.warn("accept failed", {{"error", error.message()}});
      asio::steady_timer pause(acceptor_.get_executor(), std::chrono::milliseconds(50));
      co_await pause.async_wait(use_tuple);
      continue;
    }
    const auto id = next_connection_id_++;
    auto executor = socket.get_executor();
    asio::co_spawn(executor, run_connection(std::move(socket), id), asio::detached);
  }
}

asio::awaitable<void> server::run_connection(tcp::socket socket, std::uint64_t connection_id) {
  const log::logger connection_log = log::logger{}.with("conn", std::to_string(connection_id));
  beast::tcp_stream stream(std::move(socket));
  idle_watchdog idle(stream.socket(), timeouts_.idle);
  beast::flat_buffer buffer;
  connection_memory memory;

  for (bool first_request = true;; first_request = false) {
    // On a kept-alive connection the idle timeout covers the wait for the next request, and the
    // header deadline starts with its first byte. Pipelined bytes already buffered skip the wait.
    if (!first_request && buffer.size() == 0) {
      // An idle connection keeps only a small buffer, whatever its last request needed, so
      // thousands of idle keep-alive connections cost little memory. A buffer of that size stays,
      // so a busy connection does not free and allocate it again for each request.
      if (buffer.capacity() > idle_buffer_limit_bytes) {
        buffer.shrink_to_fit();
      }
      // The watchdog bounds this wait, so the read goes to the socket itself and arms no timer.
      idle.waiting();
      auto [error, bytes] = co_await stream.socket().async_read_some(
          buffer.prepare(next_request_read_bytes), use_tuple);
      idle.busy();
      if (error) {
        connection_log.debug("connection closed between requests",
                             {{"error", error == asio::error::operation_aborted && idle.expired()
                                            ? "idle timeout"
                                            : error.message()}});
        break;
      }
      buffer.commit(bytes);
    }

    exchange::parser_type parser;
    parser.header_limit(header_limit_bytes);
    // Beast compares a declared Content-Length with this limit while it reads the header.
    parser.body_limit(max_body_bytes_);
    const auto error = co_await read_header_within(stream, buffer, parser, timeouts_.header);
    if (error == beast::error::timeout) {
      // A client that sent nothing gets no response, and a partial header gets a 408.
      if (buffer.size() == 0 && !parser.got_some()) {
        break;
      }
      connection_log.info("request header timed out", {{"buffered_bytes", buffer.size()}});
      stream.expires_after(timeouts_.idle);
      co_await reject_slow_header(stream, timeouts_.header);
      break;
    }
    if (error == http::error::end_of_stream || error == asio::error::connection_reset ||
        error == asio::error::operation_aborted) {
      break;
    }
    if (error) {
      connection_log.info("request header rejected", {{"error", error.message()}});
      stream.expires_after(timeouts_.idle);
      co_await reject_header(stream, error, max_body_bytes_);
      break;
    }

    const std::string request_id = request_id_for(parser.get());
    exchange current(stream, buffer, parser, memory, connection_log.with("request_id", request_id),
                     request_id, timeouts_.idle, timeouts_.body_idle);
    const auto started = std::chrono::steady_clock::now();
    const request_counter counted(active_requests_);
    co_await routes_.handle(current);
    // A request that was in progress when the drain began still learns the connection closes.
    if (stopping_.load()) {
      current.request_close();
    }
    co_await current.write_response();

    const auto elapsed = std::chrono::steady_clock::now() - started;
    const auto elapsed_us = std::chrono::duration_cast<std::chrono::microseconds>(elapsed).count();
    routes_.record_request(parser.get().method_string(), current.target(),
                           current.response_status(), elapsed);
    current.logger().info("request",
                          {{"method", std::string_view(parser.get().method_string())},
                           {"target", current.target().substr(0, current.target().find('?'))},
                           {"status", static_cast<int>(current.response_status())},
                           {"duration_us", elapsed_us}});
    if (current.close_after_response() || stopping_.load()) {
      break;
    }
  }

  boost::system::error_code ignored;
  stream.socket().shutdown(tcp::socket::shutdown_send, ignored);
}

}  // namespace jobgate::gateway
