#include "worker/webhook_sender.hpp"

#include <openssl/ssl.h>
#include <openssl/x509_vfy.h>

#include <algorithm>
#include <array>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/bind_executor.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/host_name_verification.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/error.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/buffer_body.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <optional>
#include <stdexcept>
#include <string_view>

namespace jobgate::worker {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;
using clock_type = std::chrono::steady_clock;

namespace {

constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);
constexpr std::size_t excerpt_bytes = 512;
constexpr std::uint32_t response_header_limit_bytes = 16 * 1024;
// A peer that sends more 1xx responses than this before the final one is treated as broken.
constexpr int max_interim_responses = 8;

std::string milliseconds_text(std::chrono::milliseconds duration) {
  return std::to_string(duration.count()) + " ms";
}

std::string endpoint_text(const tcp::endpoint& endpoint) {
  const auto address = endpoint.address();
  const std::string host = address.is_v6() ? "[" + address.to_string() + "]" : address.to_string();
  return host + ":" + std::to_string(endpoint.port());
}

bool is_address_literal(const std::string& host) {
  boost::system::error_code error;
  asio::ip::make_address(host, error);
  return !error;
}

// ---------------------------------------------------------------------------------------------
// The request

// RFC 9110 token characters, the only ones a field name may contain.
bool is_field_name(std::string_view name) {
  constexpr std::string_view specials = "!#$%&'*+-.^_`|~";
  return !name.empty() && std::all_of(name.begin(), name.end(), [&](char c) {
    const bool alphanumeric =
        (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
    return alphanumeric || specials.find(c) != std::string_view::npos;
  });
}

// A field value without CR, LF or NUL, so a caller's header cannot split the request.
bool is_field_value(std::string_view value) {
  return value.find_first_of(std::string_view("\r\n\0", 3)) == std::string_view::npos;
}

std::string host_field(const webhooks::target_url& url) {
  const bool ipv6 = url.host.find(':') != std::string::npos;
  std::string host = ipv6 ? "[" + url.host + "]" : url.host;
  const std::uint16_t default_port = url.tls ? 443 : 80;
  if (url.port != default_port) {
    host += ":" + std::to_string(url.port);
  }
  return host;
}

// Builds the POST, or returns nullopt and sets `error` to a sentence naming the header that
// cannot be sent.
std::optional<http::request<http::string_body>> build_request(const webhook_request& request,
                                                              const std::string& user_agent,
                                                              std::string& error) {
  http::request<http::string_body> message{http::verb::post, request.url.target, 11};
  message.set(http::field::host, host_field(request.url));
  message.set(http::field::content_type, "application/json");
  message.set(http::field::user_agent, user_agent);

  bool content_type_given = false;
  bool user_agent_given = false;
  for (const auto& [name, value] : request.headers) {
    if (!is_field_name(name) || !is_field_value(value)) {
      error = "invalid request header \"" + name + "\": the name must be a token and the value " +
              "must not contain CR, LF or NUL";
      return std::nullopt;
    }
    const auto field = http::string_to_field(name);
    if (field == http::field::host || field == http::field::content_length ||
        field == http::field::transfer_encoding || field == http::field::connection) {
      error = "invalid request header \"" + name + "\": the sender sets it itself";
      return std::nullopt;
    }
    // The first given Content-Type or User-Agent replaces the default, later ones add to it.
    if (field == http::field::content_type && !content_type_given) {
      message.erase(field);
      content_type_given = true;
    }
    if (field == http::field::user_agent && !user_agent_given) {
      message.erase(field);
      user_agent_given = true;
    }
    message.insert(name, value);
  }

  message.set(http::field::connection, "close");
  message.body() = request.body;
  message.prepare_payload();
  return message;
}

// ---------------------------------------------------------------------------------------------
// Name resolution and the address policy

struct lookup_result {
  bool done = false;
  boost::system::error_code error;
  std::vector<tcp::endpoint> endpoints;
};

// Resolves `host` but stops waiting at `deadline`. getaddrinfo on Asio's resolver thread cannot
// be interrupted, so a result that arrives later goes into the shared state and is ignored.
// NOTE: Asio runs getaddrinfo on one thread per io_context, so a slow DNS server also delays the
// lookups of other sends on the same io_context.
asio::awaitable<lookup_result> lookup(const std::string& host, std::uint16_t port,
                                      clock_type::time_point deadline) {
  const auto executor = co_await asio::this_coro::executor;
  struct shared_state {
    explicit shared_state(const asio::any_io_executor& executor, clock_type::time_point deadline)
        : timer(executor, deadline) {}
    lookup_result result;
    asio::steady_timer timer;
  };
  const auto state = std::make_shared<shared_state>(executor, deadline);

  tcp::resolver resolver(executor);
  auto on_resolved = [state](const boost::system::error_code& error,
                             const tcp::resolver::results_type& results) {
    state->result.done = true;
    state->result.error = error;
    for (const auto& entry : results) {
      state->result.endpoints.push_back(entry.endpoint());
    }
    state->timer.cancel();
  };
  resolver.async_resolve(host, std::to_string(port), tcp::resolver::numeric_service,
                         asio::bind_executor(executor, std::move(on_resolved)));

  auto [wait_error] = co_await state->timer.async_wait(use_tuple);
  (void)wait_error;
  if (!state->result.done) {
    resolver.cancel();
  }
  co_return state->result;
}

struct allowed_endpoints {
  std::vector<tcp::endpoint> endpoints;  // in resolver order
  std::string error;                     // set when none is left
};

// Resolves the target (an address literal is taken as it is) and keeps the endpoints that the
// policy allows. Nothing is connected here, and the connect step uses only these endpoints.
asio::awaitable<allowed_endpoints> resolve_allowed(const webhooks::target_url& url,
                                                   const webhooks::address_policy& policy,
                                                   clock_type::time_point deadline,
                                                   std::chrono::milliseconds connect_timeout) {
  allowed_endpoints allowed;
  std::vector<tcp::endpoint> candidates;
  boost::system::error_code literal_error;
  const auto literal = asio::ip::make_address(url.host, literal_error);
  if (!literal_error) {
    candidates.emplace_back(literal, url.port);
  } else {
    auto found = co_await lookup(url.host, url.port, deadline);
    if (!found.done) {
      allowed.error = "connect timed out after " + milliseconds_text(connect_timeout) +
                      " while resolving " + url.host;
      co_return allowed;
    }
    if (found.error) {
      allowed.error = "name did not resolve: " + url.host + ": " + found.error.message();
      co_return allowed;
    }
    candidates = std::move(found.endpoints);
  }
  if (candidates.empty()) {
    allowed.error = "name did not resolve: " + url.host + " has no addresses";
    co_return allowed;
  }

  std::string first_refusal;
  for (const auto& endpoint : candidates) {
    const auto reason = policy.refusal(endpoint.address());
    if (!reason) {
      allowed.endpoints.push_back(endpoint);
    } else if (first_refusal.empty()) {
      first_refusal = "refused " + endpoint.address().to_string() + ": " + *reason;
    }
  }
  if (allowed.endpoints.empty()) {
    allowed.error = std::move(first_refusal);
  }
  co_return allowed;
}

// ---------------------------------------------------------------------------------------------
// Connection set-up

// Tries the endpoints in order until one accepts, all within one deadline. Sets
// response.address on success, else response.error.
asio::awaitable<void> connect_first(beast::tcp_stream& stream,
                                    const std::vector<tcp::endpoint>& endpoints,
                                    clock_type::time_point deadline,
                                    std::chrono::milliseconds connect_timeout,
                                    webhook_response& response) {
  std::string failures;
  for (const auto& endpoint : endpoints) {
    stream.expires_at(deadline);
    auto [error] = co_await stream.async_connect(endpoint, use_tuple);
    if (!error) {
      response.address = endpoint.address().to_string();
      co_return;
    }
    if (error == beast::error::timeout) {
      response.error = "connect timed out after " + milliseconds_text(connect_timeout) + " (" +
                       endpoint_text(endpoint) + ")";
      co_return;
    }
    failures += failures.empty() ? "" : "; ";
    failures += "connect to " + endpoint_text(endpoint) + " failed: " + error.message();
    stream.close();
  }
  response.error = std::move(failures);
}

// Runs Asio's host_name_verification and, on a mismatch, records the matching X509 error so the
// handshake failure can name it. Called from OpenSSL during the handshake.
class verify_host_name {
 public:
  explicit verify_host_name(const std::string& host)
      : check_(host),
        mismatch_(is_address_literal(host) ? X509_V_ERR_IP_ADDRESS_MISMATCH
                                           : X509_V_ERR_HOSTNAME_MISMATCH) {}

  bool operator()(bool preverified, ssl::verify_context& context) const noexcept {
    const bool verified = check_(preverified, context);
    if (preverified && !verified) {
      X509_STORE_CTX_set_error(context.native_handle(), mismatch_);
    }
    return verified;
  }

 private:
  ssl::host_name_verification check_;
  int mismatch_;
};

// Runs the TLS handshake with SNI and peer verification for `host`. Returns a sentence on
// failure, empty on success.
asio::awaitable<std::string> handshake(ssl::stream<beast::tcp_stream>& stream,
                                       const std::string& host, clock_type::time_point deadline,
                                       std::chrono::milliseconds connect_timeout) {
  // RFC 6066 allows only host names in SNI, never address literals.
  if (!is_address_literal(host) &&
      SSL_set_tlsext_host_name(stream.native_handle(), host.c_str()) != 1) {
    co_return "TLS setup failed: the server name " + host + " was not accepted for SNI";
  }
  stream.set_verify_mode(ssl::verify_peer);
  stream.set_verify_callback(verify_host_name(host));

  beast::get_lowest_layer(stream).expires_at(deadline);
  auto [error] = co_await stream.async_handshake(ssl::stream_base::client, use_tuple);
  if (!error) {
    co_return std::string();
  }
  if (error == beast::error::timeout) {
    co_return "connect timed out after " + milliseconds_text(connect_timeout) +
        " during the TLS handshake";
  }
  const long verify_result = SSL_get_verify_result(stream.native_handle());
  if (verify_result != X509_V_OK) {
    co_return std::string("TLS certificate verification failed: ") +
        X509_verify_cert_error_string(verify_result);
  }
  co_return "TLS handshake failed: " + error.message();
}

// ---------------------------------------------------------------------------------------------
// The exchange

std::string io_failure(std::string_view what, const boost::system::error_code& error,
                       std::chrono::milliseconds response_timeout) {
  if (error == beast::error::timeout) {
    return std::string(what) + " timed out after " + milliseconds_text(response_timeout);
  }
  if (error == http::error::end_of_stream || error == http::error::partial_message ||
      error == ssl::error::stream_truncated || error == asio::error::eof) {
    return std::string(what) + " failed: the server closed the connection";
  }
  return std::string(what) + " failed: " + error.message();
}

// Writes the request and reads the final response: interim 1xx responses are skipped, and at
// most max_response_bytes of the body are read. `transport` is the TCP layer of `stream`.
template <class Stream>
asio::awaitable<void> exchange(Stream& stream, beast::tcp_stream& transport,
                               http::request<http::string_body>& request,
                               const webhook_sender_options& options, webhook_response& response) {
  transport.expires_after(options.response_timeout);
  auto [write_error, written] = co_await http::async_write(stream, request, use_tuple);
  (void)written;
  if (write_error) {
    response.error = io_failure("request write", write_error, options.response_timeout);
    co_return;
  }

  beast::flat_buffer buffer;
  std::optional<http::response_parser<http::buffer_body>> parser;
  for (int interim = 0;; ++interim) {
    if (interim > max_interim_responses) {
      response.error = "response read failed: more than " + std::to_string(max_interim_responses) +
                       " interim 1xx responses";
      co_return;
    }
    parser.emplace();
    parser->header_limit(response_header_limit_bytes);
    // The loop below counts the body, so a larger one is read up to the maximum instead of
    // failing at once on its Content-Length.
    parser->body_limit(boost::none);
    auto [header_error, header_bytes] =
        co_await http::async_read_header(stream, buffer, *parser, use_tuple);
    (void)header_bytes;
    if (header_error) {
      response.error = io_failure("response read", header_error, options.response_timeout);
      co_return;
    }
    const int status = parser->get().result_int();
    if (status < 100 || status > 199 || status == 101) {
      response.status = status;
      break;
    }
  }

  std::array<char, 8192> chunk;
  std::size_t body_bytes = 0;
  while (!parser->is_done() && body_bytes < options.max_response_bytes) {
    const std::size_t room = std::min(chunk.size(), options.max_response_bytes - body_bytes);
    parser->get().body().data = chunk.data();
    parser->get().body().size = room;
    auto [read_error, read_bytes] = co_await http::async_read(stream, buffer, *parser, use_tuple);
    (void)read_bytes;

    const std::size_t received = room - parser->get().body().size;
    const std::size_t kept = std::min(received, excerpt_bytes - response.body_excerpt.size());
    response.body_excerpt.append(chunk.data(), kept);
    body_bytes += received;
    if (read_error && read_error != http::error::need_buffer) {
      response.error = io_failure("response body read", read_error, options.response_timeout);
      co_return;
    }
  }
}

// Runs one delivery attempt and fills `response`. send() adds the elapsed time.
asio::awaitable<void> deliver(const webhook_request& request, const webhook_sender_options& options,
                              ssl::context& tls, webhook_response& response) {
  const auto& url = request.url;
  if (!url.tls && !options.allow_http) {
    response.error = "refused " + url.text + ": plain http is not allowed, the URL must use https";
    co_return;
  }
  std::string request_error;
  auto message = build_request(request, options.user_agent, request_error);
  if (!message) {
    response.error = std::move(request_error);
    co_return;
  }

  const auto connect_deadline = clock_type::now() + options.connect_timeout;
  auto allowed =
      co_await resolve_allowed(url, options.policy, connect_deadline, options.connect_timeout);
  if (allowed.endpoints.empty()) {
    response.error = std::move(allowed.error);
    co_return;
  }

  const auto executor = co_await asio::this_coro::executor;
  if (!url.tls) {
    beast::tcp_stream stream(executor);
    co_await connect_first(stream, allowed.endpoints, connect_deadline, options.connect_timeout,
                           response);
    if (response.error.empty()) {
      co_await exchange(stream, stream, *message, options, response);
    }
    co_return;
  }

  // The TLS close_notify exchange is skipped because the request carries Connection: close and
  // nothing more is read once the response ends or is cut at max_response_bytes.
  ssl::stream<beast::tcp_stream> stream(executor, tls);
  co_await connect_first(stream.next_layer(), allowed.endpoints, connect_deadline,
                         options.connect_timeout, response);
  if (!response.error.empty()) {
    co_return;
  }
  response.error = co_await handshake(stream, url.host, connect_deadline, options.connect_timeout);
  if (response.error.empty()) {
    co_await exchange(stream, stream.next_layer(), *message, options, response);
  }
}

std::unique_ptr<ssl::context> make_tls_context(const std::string& ca_file) {
  auto context = std::make_unique<ssl::context>(ssl::context::tls_client);
  context->set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 |
                       ssl::context::no_sslv3 | ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1);
  context->set_verify_mode(ssl::verify_peer);

  boost::system::error_code error;
  context->set_default_verify_paths(error);
  if (error) {
    throw std::runtime_error("the system certificate store could not be loaded: " +
                             error.message());
  }
  if (!ca_file.empty()) {
    context->load_verify_file(ca_file, error);
    if (error) {
      throw std::runtime_error("the webhook CA file " + ca_file +
                               " could not be loaded: " + error.message() +
                               "; it must be a readable file of PEM certificates");
    }
  }
  return context;
}

}  // namespace

webhook_sender::webhook_sender(webhook_sender_options options)
    : options_(std::move(options)), tls_(make_tls_context(options_.ca_file)) {}

webhook_sender::~webhook_sender() = default;
webhook_sender::webhook_sender(webhook_sender&&) noexcept = default;
webhook_sender& webhook_sender::operator=(webhook_sender&&) noexcept = default;

asio::awaitable<webhook_response> webhook_sender::send(const webhook_request& request) const {
  const auto started = clock_type::now();
  webhook_response response;
  co_await deliver(request, options_, *tls_, response);
  response.elapsed =
      std::chrono::duration_cast<std::chrono::milliseconds>(clock_type::now() - started);
  co_return response;
}

}  // namespace jobgate::worker
