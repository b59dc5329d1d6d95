#include "gateway/server.hpp"

#include <openssl/rand.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>

#include "gateway/exchange.hpp"

namespace jobgate::gateway {

namespace asio = boost::asio;
namespace beast = boost::beast;
using tcp = asio::ip::tcp;

namespace {

constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);
constexpr std::size_t header_limit_bytes = 16 * 1024;

std::string new_request_id() {
  unsigned char random[8];
  RAND_bytes(random, sizeof random);
  static constexpr char hex[] = "0123456789abcdef";
  std::string id;
  for (const unsigned char byte : random) {
    id += hex[byte >> 4];
    id += hex[byte & 0x0f];
  }
  return id;
}

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
  http::response<http::string_body> response{describe(reason.kind).status, 11};
  response.set(http::field::content_type, "application/problem+json");
  response.set(http::field::connection, "close");
  response.body() = problem_body(reason, "");
  response.prepare_payload();
  // The connection closes next whether or not the write succeeds.
  auto [write_error, bytes] = co_await http::async_write(stream, response, use_tuple);
  (void)write_error;
  (void)bytes;
}

}  // namespace

server::server(asio::io_context& io, const tcp::endpoint& endpoint, router& routes,
               std::chrono::seconds idle_timeout, std::uint64_t max_body_bytes)
    : io_(io),
      acceptor_(io),
      routes_(routes),
      idle_timeout_(idle_timeout),
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
  asio::post(acceptor_.get_executor(), [this] {
    boost::system::error_code ignored;
    acceptor_.close(ignored);
  });
}

std::uint16_t server::port() const {
  return acceptor_.local_endpoint().port();
}

asio::awaitable<void> server::accept_loop() {
  for (;;) {
    auto [error, socket] = co_await acceptor_.async_accept(asio::make_strand(io_), use_tuple);
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
  beast::flat_buffer buffer;

  for (;;) {
    exchange::parser_type parser;
    parser.header_limit(header_limit_bytes);
    // Beast compares a declared Content-Length with this limit while it reads the header.
    parser.body_limit(max_body_bytes_);
    stream.expires_after(idle_timeout_);
    auto [error, bytes] = co_await http::async_read_header(stream, buffer, parser, use_tuple);
    if (error == http::error::end_of_stream || error == beast::error::timeout ||
        error == asio::error::connection_reset || error == asio::error::operation_aborted) {
      break;
    }
    if (error) {
      connection_log.info("request header rejected", {{"error", error.message()}});
      co_await reject_header(stream, error, max_body_bytes_);
      break;
    }

    const std::string request_id = request_id_for(parser.get());
    exchange current(stream, buffer, parser, connection_log.with("request_id", request_id),
                     request_id, idle_timeout_);
    const auto started = std::chrono::steady_clock::now();
    co_await routes_.handle(current);
    co_await current.write_response();

    const auto elapsed_us = std::chrono::duration_cast<std::chrono::microseconds>(
                                std::chrono::steady_clock::now() - started)
                                .count();
    current.logger().info(
        "request", {{"method", std::string(parser.get().method_string())},
                    {"target", std::string(current.target().substr(0, current.target().find('?')))},
                    {"status", static_cast<int>(current.response_status())},
                    {"duration_us", elapsed_us}});
    if (current.close_after_response()) {
      break;
    }
  }

  boost::system::error_code ignored;
  stream.socket().shutdown(tcp::socket::shutdown_send, ignored);
}

}  // namespace jobgate::gateway
