#include "worker/metrics_server.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>

namespace jobgate::worker {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

namespace {

constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);
// A scrape is one short request; a client that takes longer is dropped.
constexpr auto request_timeout = std::chrono::seconds(10);

http::response<http::string_body> respond(const http::request<http::string_body>& request,
                                          const std::function<std::string()>& render) {
  http::response<http::string_body> response;
  response.version(request.version());
  response.keep_alive(request.keep_alive());
  const auto path = request.target().substr(0, request.target().find('?'));
  if (request.method() != http::verb::get && request.method() != http::verb::head) {
    response.result(http::status::method_not_allowed);
    response.set(http::field::allow, "GET");
  } else if (path == "/metrics") {
    response.result(http::status::ok);
    response.set(http::field::content_type, "text/plain; version=0.0.4");
    response.body() = render();
  } else if (path == "/healthz") {
    response.result(http::status::ok);
    response.set(http::field::content_type, "application/json");
    response.body() = R"({"status":"ok"})";
  } else {
    response.result(http::status::not_found);
  }
  response.prepare_payload();
  return response;
}

asio::awaitable<void> serve(tcp::socket socket, const std::function<std::string()>& render) {
  beast::tcp_stream stream(std::move(socket));
  beast::flat_buffer buffer;
  while (true) {
    stream.expires_after(request_timeout);
    http::request<http::string_body> request;
    auto [read_error, read_bytes] = co_await http::async_read(stream, buffer, request, use_tuple);
    if (read_error) {
      break;
    }
    auto response = respond(request, render);
    const bool keep_alive = response.keep_alive();
    auto [write_error, written] = co_await http::async_write(stream, response, use_tuple);
    if (write_error || !keep_alive) {
      break;
    }
  }
  boost::system::error_code ignored;
  stream.socket().shutdown(tcp::socket::shutdown_send, ignored);
}

}  // namespace

metrics_server::metrics_server(const std::string& address, std::uint16_t port,
                               std::function<std::string()> render)
    : acceptor_(io_, tcp::endpoint(asio::ip::make_address(address), port)),
      render_(std::move(render)),
      logger_(log::logger{}.with("role", "metrics")) {}

metrics_server::~metrics_server() {
  stop();
}

std::uint16_t metrics_server::port() const {
  return acceptor_.local_endpoint().port();
}

void metrics_server::start() {
  asio::co_spawn(
      io_,
      [this]() -> asio::awaitable<void> {
        while (true) {
          auto [error, socket] = co_await acceptor_.async_accept(use_tuple);
          if (error == asio::error::operation_aborted) {
            co_return;
          }
          if (error) {
            logger_.warn("metrics accept failed", {{"error", error.message()}});
            continue;
          }
          asio::co_spawn(io_, serve(std::move(socket), render_), asio::detached);
        }
      },
      asio::detached);
  thread_ = std::thread([this] { io_.run(); });
}

void metrics_server::stop() {
  if (!thread_.joinable()) {
    return;
  }
  asio::post(io_, [this] {
    boost::system::error_code ignored;
    acceptor_.close(ignored);
  });
  io_.stop();
  thread_.join();
}

}  // namespace jobgate::worker
