#include "cli/http_client.hpp"

#include <boost/asio/buffer.hpp>
#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>
#include <boost/url/parse.hpp>
#include <boost/url/scheme.hpp>
#include <charconv>
#include <fstream>
#include <ostream>
#include <thread>

#include "common/version.hpp"

namespace jobgate::cli {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = net::ip::tcp;

namespace {

constexpr auto connect_timeout = std::chrono::seconds(15);
// The gateway sends an event stream comment every 15 seconds, so a quiet minute is a dead peer.
constexpr auto io_timeout = std::chrono::seconds(60);
// Bodies that are not streamed to a sink are job resources, pages and problem documents.
constexpr std::size_t max_buffered_body = 64 * 1024 * 1024;
constexpr std::size_t chunk_size = 64 * 1024;

// The outcome of one attempt that got no complete response.
struct attempt_error {
  std::string message;
  bool retryable = true;  // false once a body reached the sink
};

// Starts an asynchronous operation with a completion handler that stores its error code, and runs
// the io_context until it completes, so tcp_stream's deadlines apply to blocking code.
template <class Start>
beast::error_code run_operation(net::io_context& context, Start start) {
  beast::error_code result;
  start([&result](beast::error_code error, auto&&...) { result = error; });
  context.restart();
  context.run();
  return result;
}

std::optional<unsigned> parse_seconds(std::string_view text) {
  unsigned seconds = 0;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), seconds);
  if (error != std::errc{} || end != text.data() + text.size()) {
    return std::nullopt;
  }
  return seconds;
}

// The Host header: the port only when it is not the scheme's default, an IPv6 literal bracketed.
std::string host_field(const gateway_address& address) {
  std::string host =
      address.host.find(':') == std::string::npos ? address.host : "[" + address.host + "]";
  const std::string_view default_port = address.tls ? "443" : "80";
  return address.port == default_port ? host : host + ":" + address.port;
}

bool is_retryable_status(const http_response& response) {
  if (response.status == 503 || response.status == 429) {
    return true;
  }
  return response.status == 409 &&
         response.body.find("idempotency-key-in-use") != std::string::npos;
}

}  // namespace

boost::system::result<gateway_address, client_error> parse_gateway_url(std::string_view url) {
  // Without a scheme, "127.0.0.1:8080" would parse as scheme "127.0.0.1" and fail with a
  // grammar error that does not name the fix.
  if (url.find("://") == std::string_view::npos) {
    return client_error{"the URL '" + std::string(url) + "' must start with http:// or https://"};
  }
  // A base URL has no fragment, but the dashboard's addresses do ("/ui/#/jobs"), and
  // parse_absolute_uri would reject them with a bare "leftover" grammar error.
  const std::size_t fragment = url.find('#');
  const std::string_view without_fragment = url.substr(0, fragment);
  const auto parsed = boost::urls::parse_absolute_uri(without_fragment);
  if (!parsed) {
    return client_error{"the URL '" + std::string(url) +
                        "' is invalid: " + parsed.error().message()};
  }
  // URL schemes are case-insensitive, and scheme_id() ignores letter case ("HTTPS://" is https).
  const boost::urls::scheme scheme = parsed->scheme_id();
  if (scheme != boost::urls::scheme::http && scheme != boost::urls::scheme::https) {
    return client_error{"the URL '" + std::string(url) + "' must start with http:// or https://"};
  }
  if (parsed->host().empty()) {
    return client_error{"the URL '" + std::string(url) + "' has no host"};
  }
  gateway_address address;
  // The host without the brackets of an IPv6 literal, as the resolver takes it.
  address.host = std::string(parsed->host_address());
  address.tls = scheme == boost::urls::scheme::https;
  if (parsed->has_port()) {
    address.port = std::string(parsed->port());
  } else {
    address.port = address.tls ? "443" : "80";
  }
  address.base_path = std::string(parsed->encoded_path());
  while (!address.base_path.empty() && address.base_path.back() == '/') {
    address.base_path.pop_back();
  }

  // The dashboard's address is a natural thing to copy from the browser, but the API is not
  // under it, so every request would get 404.
  const bool dashboard = address.base_path == "/ui" || address.base_path.ends_with("/ui");
  if (dashboard || fragment != std::string_view::npos) {
    std::string base(without_fragment);
    while (base.ends_with('/')) {
      base.pop_back();
    }
    if (dashboard && base.ends_with("/ui")) {
      base.resize(base.size() - 3);
    }
    const std::string problem = dashboard ? "is the dashboard's address" : "has a fragment ('#')";
    return client_error{"the URL '" + std::string(url) + "' " + problem +
                        "; use the gateway's base URL, such as '" + base + "'"};
  }
  return address;
}

struct http_client::state {
  gateway_address address;
  std::string api_key;
  std::ostream& notices;
  retry_policy policy;
  net::io_context context;
  // Created for the first https request: the system's trusted certificates (or SSL_CERT_FILE and
  // SSL_CERT_DIR, as OpenSSL reads them) and peer verification.
  std::optional<net::ssl::context> tls_context;

  boost::system::result<http_response, attempt_error> attempt(const gateway_address& target_address,
                                                              const std::string& target,
                                                              const http_request& request,
                                                              const body_sink& sink);
  template <class Stream>
  boost::system::result<http_response, attempt_error> exchange(
      Stream& stream, const gateway_address& target_address, const std::string& target,
      const http_request& request, const body_sink& sink);
  template <class Stream>
  boost::system::result<void, attempt_error> write_request(Stream& stream,
                                                           const std::string& target,
                                                           const gateway_address& target_address,
                                                           const http_request& request);
  template <class Stream>
  beast::error_code write_bytes(Stream& stream, const char* data, std::size_t size) {
    beast::get_lowest_layer(stream).expires_after(io_timeout);
    return run_operation(context, [&](auto handler) {
      net::async_write(stream, net::buffer(data, size), std::move(handler));
    });
  }
};

http_client::http_client(gateway_address address, std::string api_key, std::ostream& notices,
                         retry_policy policy)
    : state_(new state{std::move(address), std::move(api_key), notices, policy, {}, {}}) {}

http_client::~http_client() = default;

template <class Stream>
boost::system::result<void, attempt_error> http_client::state::write_request(
    Stream& stream, const std::string& target, const gateway_address& target_address,
    const http_request& request) {
  const auto verb = http::string_to_verb(request.method);
  http::request<http::string_body> message{verb, target, 11};
  message.set(http::field::host, host_field(target_address));
  message.set(http::field::user_agent, "jobgate-cli/" + std::string(version()));
  if (request.authenticate && !api_key.empty()) {
    message.set(http::field::authorization, "Bearer " + api_key);
  }
  for (const auto& [name, value] : request.fields) {
    message.set(name, value);
  }

  // A plain request is one write.
  if (request.upload == nullptr) {
    message.body() = request.body;
    message.prepare_payload();
    beast::get_lowest_layer(stream).expires_after(io_timeout);
    const auto error = run_operation(
        context, [&](auto handler) { http::async_write(stream, message, std::move(handler)); });
    if (error) {
      return attempt_error{"sending the request failed: " + error.message()};
    }
    return {};
  }

  // An upload writes the header, then the multipart head, the file in chunks and the tail.
  const streamed_upload& upload = *request.upload;
  std::ifstream file(upload.file_path, std::ios::binary);
  if (!file) {
    return attempt_error{"reading " + upload.file_path + " failed", false};
  }
  const std::uint64_t total = upload.head.size() + upload.file_size + upload.tail.size();
  message.content_length(total);
  http::request_serializer<http::string_body> serializer{message};
  beast::get_lowest_layer(stream).expires_after(io_timeout);
  auto error = run_operation(context, [&](auto handler) {
    http::async_write_header(stream, serializer, std::move(handler));
  });
  std::uint64_t sent = 0;
  const auto send_part = [&](const char* data, std::size_t size) {
    error = write_bytes(stream, data, size);
    sent += size;
    if (!error && upload.on_progress) {
      upload.on_progress(sent, total);
    }
  };
  if (!error) {
    send_part(upload.head.data(), upload.head.size());
  }

  // Exactly file_size bytes, the size that Content-Length announced.
  std::vector<char> chunk(chunk_size);
  std::uint64_t left = upload.file_size;
  while (!error && left > 0) {
    const auto wanted = static_cast<std::size_t>(std::min<std::uint64_t>(left, chunk.size()));
    file.read(chunk.data(), static_cast<std::streamsize>(wanted));
    const auto count = static_cast<std::size_t>(file.gcount());
    if (count == 0) {
      return attempt_error{upload.file_path + " became shorter while it was uploaded", false};
    }
    left -= count;
    send_part(chunk.data(), count);
  }
  if (!error) {
    send_part(upload.tail.data(), upload.tail.size());
  }
  if (error) {
    return attempt_error{"sending the upload failed: " + error.message()};
  }
  return {};
}

boost::system::result<http_response, attempt_error> http_client::state::attempt(
    const gateway_address& target_address, const std::string& target, const http_request& request,
    const body_sink& sink) {
  const std::string where = target_address.host + ":" + target_address.port;
  tcp::resolver resolver(context);
  beast::tcp_stream stream(context);

  // Connect.
  tcp::resolver::results_type endpoints;
  auto error = run_operation(context, [&](auto handler) {
    resolver.async_resolve(target_address.host, target_address.port,
                           [&endpoints, handler = std::move(handler)](
                               beast::error_code code, tcp::resolver::results_type found) mutable {
                             endpoints = std::move(found);
                             handler(code);
                           });
  });
  if (error) {
    return attempt_error{"resolving " + target_address.host + " failed: " + error.message()};
  }
  stream.expires_after(connect_timeout);
  error = run_operation(context,
                        [&](auto handler) { stream.async_connect(endpoints, std::move(handler)); });
  if (error) {
    return attempt_error{"connecting to " + where + " failed: " + error.message()};
  }
  if (!target_address.tls) {
    return exchange(stream, target_address, target, request, sink);
  }

  // TLS with the host name sent (SNI) and checked against the server's certificate.
  if (!tls_context) {
    tls_context.emplace(net::ssl::context::tls_client);
    tls_context->set_default_verify_paths();
    tls_context->set_verify_mode(net::ssl::verify_peer);
  }
  beast::ssl_stream<beast::tcp_stream> tls_stream(std::move(stream), *tls_context);
  if (SSL_set_tlsext_host_name(tls_stream.native_handle(), target_address.host.c_str()) != 1) {
    return attempt_error{"setting the TLS server name " + target_address.host + " failed", false};
  }
  tls_stream.set_verify_callback(net::ssl::host_name_verification(target_address.host));
  beast::get_lowest_layer(tls_stream).expires_after(connect_timeout);
  error = run_operation(context, [&](auto handler) {
    tls_stream.async_handshake(net::ssl::stream_base::client, std::move(handler));
  });
  if (error) {
    // A certificate that fails verification fails again, so only a network error is retried.
    const bool retryable = error.category() != net::error::get_ssl_category();
    return attempt_error{"the TLS handshake with " + where + " failed: " + error.message(),
                         retryable};
  }
  return exchange(tls_stream, target_address, target, request, sink);
}

template <class Stream>
boost::system::result<http_response, attempt_error> http_client::state::exchange(
    Stream& stream, const gateway_address& target_address, const std::string& target,
    const http_request& request, const body_sink& sink) {
  const std::string where = target_address.host + ":" + target_address.port;

  // Send. A gateway that rejects an upload early may respond before it read the whole body and
  // close, so a failed write still tries to read that response.
  const auto written = write_request(stream, target, target_address, request);
  if (!written && !written.error().retryable) {
    return written.error();
  }

  // Receive the header.
  beast::flat_buffer buffer;
  http::response_parser<http::buffer_body> parser;
  parser.body_limit(boost::none);
  beast::get_lowest_layer(stream).expires_after(io_timeout);
  auto error = run_operation(context, [&](auto handler) {
    http::async_read_header(stream, buffer, parser, std::move(handler));
  });
  if (error) {
    if (!written) {
      return written.error();
    }
    return attempt_error{"reading the response from " + where + " failed: " + error.message()};
  }
  http_response response;
  const auto& header = parser.get();
  response.status = header.result_int();
  response.content_type = std::string(header[http::field::content_type]);
  response.location = std::string(header[http::field::location]);
  response.retry_after = parse_seconds(header[http::field::retry_after]);

  // Receive the body, into the sink for a 2xx response when there is one.
  const bool to_sink = sink && response.status >= 200 && response.status < 300;
  bool delivered = false;
  std::vector<char> chunk(chunk_size);
  while (!parser.is_done()) {
    parser.get().body().data = chunk.data();
    parser.get().body().size = chunk.size();
    beast::get_lowest_layer(stream).expires_after(io_timeout);
    error = run_operation(context, [&](auto handler) {
      http::async_read_some(stream, buffer, parser, std::move(handler));
    });
    if (error == http::error::need_buffer) {
      error = {};
    }
    if (error) {
      return attempt_error{"reading the response from " + where + " failed: " + error.message(),
                           !delivered};
    }
    const std::size_t count = chunk.size() - parser.get().body().size;
    if (count == 0) {
      continue;
    }
    if (to_sink) {
      delivered = true;
      if (!sink(std::string_view(chunk.data(), count))) {
        break;
      }
    } else if (response.body.size() + count > max_buffered_body) {
      return attempt_error{"the response from " + where + " is larger than 64 MiB", false};
    } else {
      response.body.append(chunk.data(), count);
    }
  }

  // The connection serves one request, so it closes without a TLS close_notify.
  beast::error_code ignored;
  beast::get_lowest_layer(stream).socket().shutdown(tcp::socket::shutdown_both, ignored);
  return response;
}

boost::system::result<http_response, client_error> http_client::send(const http_request& request,
                                                                     const body_sink& sink) {
  // An absolute URL, such as a download link, names its own host.
  gateway_address target_address = state_->address;
  std::string target = state_->address.base_path + request.target;
  if (request.target.starts_with("http://") || request.target.starts_with("https://")) {
    auto parsed = parse_gateway_url(request.target);
    if (!parsed) {
      return parsed.error();
    }
    target_address = *parsed;
    const auto url = boost::urls::parse_absolute_uri(request.target);
    target = std::string(url->encoded_resource());
    if (target.empty()) {
      target = "/";
    }
  }

  const retry_policy& policy = state_->policy;
  for (int attempt = 1;; ++attempt) {
    auto outcome = state_->attempt(target_address, target, request, sink);
    std::string reason;
    std::chrono::seconds delay{1 << std::min(attempt - 1, 5)};
    if (outcome) {
      if (!is_retryable_status(*outcome) || attempt >= policy.max_attempts) {
        return std::move(*outcome);
      }
      reason = "the gateway returned HTTP " + std::to_string(outcome->status);
      if (outcome->retry_after) {
        delay = std::chrono::seconds(*outcome->retry_after);
      }
    } else {
      if (!outcome.error().retryable || attempt >= policy.max_attempts) {
        return client_error{std::move(outcome.error().message)};
      }
      reason = outcome.error().message;
    }
    delay = std::clamp(delay, std::chrono::seconds(0), policy.max_delay);
    state_->notices << "jobgate: " << reason << "; retrying in " << delay.count() << " s (attempt "
                    << attempt + 1 << " of " << policy.max_attempts << ")\n"
                    << std::flush;
    std::this_thread::sleep_for(delay);
  }
}

}  // namespace jobgate::cli
