// A Beast HTTP server that responds to every request with one fixed response and does nothing else.
// The benchmarks load it next to the gateway to show what Boost.Beast and Asio cost on their own.
// It is built like the gateway: one io_context per thread, one acceptor handing connections to the
// threads in turn, a coroutine per keep-alive connection. The gap between the two is therefore the
// gateway's own work.
//
// Usage: jobgate-bench-responder PORT STATUS BODY_BYTES [THREADS [HEADER...]]
// Each HEADER is "Name: value" and goes into every response. It prints "listening on PORT" once it
// accepts connections; port 0 picks a free port.

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <charconv>
#include <cstdio>
#include <memory>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

namespace {

constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);

struct response_spec {
  http::status status;
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;
};

asio::awaitable<void> serve(tcp::socket socket, const response_spec& spec) {
  beast::tcp_stream stream(std::move(socket));
  beast::flat_buffer buffer;
  for (;;) {
    http::request<http::string_body> request;
    auto [read_error, read_bytes] = co_await http::async_read(stream, buffer, request, use_tuple);
    if (read_error) {
      break;
    }
    http::response<http::string_body> response{spec.status, request.version()};
    response.set(http::field::content_type, "application/json");
    for (const auto& [name, value] : spec.headers) {
      response.set(name, value);
    }
    response.body() = spec.body;
    response.keep_alive(request.keep_alive());
    response.prepare_payload();
    auto [write_error, written] = co_await http::async_write(stream, response, use_tuple);
    if (write_error || !request.keep_alive()) {
      break;
    }
  }
  boost::system::error_code ignored;
  stream.socket().shutdown(tcp::socket::shutdown_send, ignored);
}

asio::awaitable<void> accept_loop(tcp::acceptor& acceptor,
                                  const std::vector<std::unique_ptr<asio::io_context>>& contexts,
                                  const response_spec& spec) {
  for (std::size_t next = 0;; next = (next + 1) % contexts.size()) {
    auto [error, socket] =
        co_await acceptor.async_accept(contexts[next]->get_executor(), use_tuple);
    if (error == asio::error::operation_aborted) {
      co_return;
    }
    if (error) {
      continue;
    }
    auto executor = socket.get_executor();
    asio::co_spawn(executor, serve(std::move(socket), spec), asio::detached);
  }
}

bool parse_number(std::string_view text, unsigned long& value) {
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  return error == std::errc() && end == text.data() + text.size();
}

}  // namespace

int main(int argc, char** argv) {
  unsigned long port = 0;
  unsigned long status = 0;
  unsigned long body_bytes = 0;
  unsigned long threads = 2;
  std::vector<std::pair<std::string, std::string>> headers;
  bool valid = argc >= 4 && parse_number(argv[1], port) && port <= 65535 &&
               parse_number(argv[2], status) && status >= 100 && status <= 599 &&
               parse_number(argv[3], body_bytes) &&
               (argc < 5 || (parse_number(argv[4], threads) && threads > 0));
  for (int i = 5; valid && i < argc; ++i) {
    const std::string_view header = argv[i];
    const auto colon = header.find(": ");
    valid = colon != std::string_view::npos && colon > 0;
    if (valid) {
      headers.emplace_back(header.substr(0, colon), header.substr(colon + 2));
    }
  }
  if (!valid) {
    std::fprintf(stderr, "usage: %s PORT STATUS BODY_BYTES [THREADS [\"Name: value\"...]]\n",
                 argv[0]);
    return 2;
  }
  // The body is a JSON object of exactly body_bytes bytes when that is at least 10.
  std::string body = body_bytes >= 10 ? "{\"pad\":\"" + std::string(body_bytes - 10, 'x') + "\"}"
                                      : std::string(body_bytes, ' ');
  const response_spec spec{static_cast<http::status>(status), std::move(body), std::move(headers)};

  std::vector<std::unique_ptr<asio::io_context>> contexts;
  for (unsigned long i = 0; i < threads; ++i) {
    contexts.push_back(std::make_unique<asio::io_context>(1));
  }
  tcp::acceptor acceptor(*contexts.front());
  const tcp::endpoint endpoint(asio::ip::make_address("127.0.0.1"),
                               static_cast<unsigned short>(port));
  acceptor.open(endpoint.protocol());
  acceptor.set_option(asio::socket_base::reuse_address(true));
  acceptor.bind(endpoint);
  acceptor.listen(asio::socket_base::max_listen_connections);
  std::printf("listening on %u\n", static_cast<unsigned>(acceptor.local_endpoint().port()));
  std::fflush(stdout);

  asio::signal_set signals(*contexts.front(), SIGINT, SIGTERM);
  signals.async_wait([&](const boost::system::error_code&, int) {
    for (auto& context : contexts) {
      context->stop();
    }
  });
  asio::co_spawn(*contexts.front(), accept_loop(acceptor, contexts, spec), asio::detached);

  std::vector<std::jthread> runners;
  for (std::size_t i = 1; i < contexts.size(); ++i) {
    runners.emplace_back([&context = *contexts[i]] {
      const auto guard = asio::make_work_guard(context);
      context.run();
    });
  }
  contexts.front()->run();
  for (auto& context : contexts) {
    context->stop();
  }
  return 0;
}
