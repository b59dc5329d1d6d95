#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/beast/core/file.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/buffer_body.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/system/result.hpp>
#include <chrono>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/log/logger.hpp"
#include "common/tenants/tenant_limits.hpp"
#include "common/tracing/trace_context.hpp"
#include "gateway/problem.hpp"

namespace jobgate::gateway {

namespace http = boost::beast::http;

// Extra response headers by name, e.g. {"Retry-After", "2"}.
using header_list = std::vector<std::pair<std::string, std::string>>;

// The state a connection keeps from one request for the next.
struct connection_memory {
  connection_memory() = default;
  connection_memory(const connection_memory&) = delete;
  connection_memory& operator=(const connection_memory&) = delete;
  // Overwrites the key before its memory is freed.
  ~connection_memory();

  // The last API key and its SHA-256, so a client that sends the same key with every request of
  // a kept-alive connection costs one digest.
  std::string api_key;
  std::string api_key_digest;
};

// One request and its response on a connection: the parsed header, the body still to read, and the
// response writer. Owned by the connection's coroutine, used on its strand only.
class exchange {
 public:
  using parser_type = http::request_parser<http::buffer_body>;

  exchange(boost::beast::tcp_stream& stream, boost::beast::flat_buffer& buffer, parser_type& parser,
           connection_memory& memory, log::logger logger, std::string request_id,
           std::chrono::seconds idle_timeout, std::chrono::seconds body_idle_timeout);

  const http::request<http::buffer_body>& request() const { return parser_.get(); }
  std::string_view target() const { return target_; }
  const log::logger& logger() const { return logger_; }

  // The declared Content-Length, or nullopt for a chunked body.
  std::optional<std::uint64_t> content_length() const {
    const auto length = parser_.content_length();
    return length ? std::optional<std::uint64_t>(*length) : std::nullopt;
  }
  const std::string& request_id() const { return request_id_; }
  // The gateway's span of this request: a child of the request's traceparent header, or a new
  // trace. The logger's lines carry its trace id.
  const tracing::trace_context& trace() const { return trace_; }

  // Returns the hex SHA-256 of a non-empty API key. The digest is computed again only when the
  // connection's previous request sent a different key.
  std::string api_key_digest(std::string_view key);

  // The tenant once the API key was checked; empty before.
  const std::string& tenant() const { return tenant_; }
  void set_tenant(std::string tenant);

  // The limits and quotas that apply to this request: the gateway's defaults, which the router
  // sets first, and the tenant's effective limits once the API key was checked.
  const tenants::tenant_limits& limits() const { return limits_; }
  void set_limits(const tenants::tenant_limits& limits) { limits_ = limits; }

  // Adds a header to whichever response this exchange sends, recorded or streamed, such as the
  // RateLimit fields that the router sets before a handler runs.
  void add_response_header(std::string name, std::string value) {
    common_headers_.emplace_back(std::move(name), std::move(value));
  }

  // Sends "100 Continue" when the client asked for it, so that it starts sending the body.
  boost::asio::awaitable<boost::system::error_code> continue_if_expected();

  // Reads the whole body into a string; fails with http::error::body_limit above max_bytes, and
  // with beast::error::timeout when no byte arrives for body_idle_timeout.
  boost::asio::awaitable<boost::system::result<std::string>> read_body(std::uint64_t max_bytes);

  // Reads the body in pieces and hands each to consume; stops at the first error consume returns.
  // Each socket read that receives bytes restarts the body_idle_timeout deadline.
  boost::asio::awaitable<boost::system::error_code> read_body_pieces(
      std::uint64_t max_bytes,
      const std::function<boost::system::error_code(std::string_view)>& consume);

  // Records the response; the connection writes it once the handler returned. Handlers build
  // responses with plain calls and never co_await with temporaries in the arguments, because GCC 12
  // destroys some such temporaries twice in coroutines. An empty content_type sends none, for
  // bodiless responses such as 304.
  void respond(http::status status, std::string body, std::string_view content_type,
               header_list headers = {});
  void respond_json(http::status status, std::string body, header_list headers = {});
  void respond_problem(const problem& error, header_list headers = {});
  void respond_file(std::filesystem::path path, std::string_view content_type,
                    std::string_view download_name);
  // Records a response whose body is `length` bytes of the open `file` from `offset`, sent with
  // Content-Length: a 206 for a byte range, or a 200 for the whole file. A read error after the
  // headers were sent closes the connection, so the client sees an incomplete body.
  void respond_file_part(http::status status, boost::beast::file file, std::uint64_t offset,
                         std::uint64_t length, std::string_view content_type, header_list headers);

  // Streams a response instead of recording one: start_stream() sends the status line and headers
  // with chunked transfer encoding, send_chunk() sends a piece of the body, finish_stream() ends
  // it. Each returns false once the peer is gone; a HEAD request gets the headers only.
  boost::asio::awaitable<bool> start_stream(http::status status, std::string_view content_type,
                                            const header_list& headers);
  boost::asio::awaitable<bool> send_chunk(std::string_view piece);
  boost::asio::awaitable<void> finish_stream();
  bool streaming() const { return streaming_; }
  // Ends a streamed response without its last chunk and closes the connection afterwards, so the
  // client sees the body as incomplete. Use it for failures after start_stream() sent the headers.
  void abandon_stream();

  // Writes the recorded response, or a 500 problem when the handler recorded none. Does nothing
  // after a streamed response.
  boost::asio::awaitable<void> write_response();

  // True when the connection must close after this response: the client asked for it, the body was
  // not read to its end, or the connection is broken.
  bool close_after_response() const;
  // Sends Connection: close with the response, as a draining server does.
  void request_close() { close_requested_ = true; }
  bool responded() const { return responded_; }
  http::status response_status() const { return response_status_; }

 private:
  template <typename Response>
  boost::asio::awaitable<void> write(Response& response);
  // Sets the headers that every response carries: Server, X-Request-Id and add_response_header's.
  template <typename Response>
  void set_common_headers(Response& response) const;
  boost::asio::awaitable<void> write_file_part();
  // Writes a complete in-memory response: its header and body in one send when the socket takes
  // them, else the rest within the idle timeout.
  boost::asio::awaitable<boost::system::error_code> write_in_memory(
      const http::response<http::string_body>& response);

  boost::beast::tcp_stream& stream_;
  boost::beast::flat_buffer& buffer_;
  parser_type& parser_;
  connection_memory& memory_;
  bool close_requested_ = false;
  log::logger logger_;
  std::string request_id_;
  tracing::trace_context trace_;
  // Points into the parser's request, which outlives the exchange.
  std::string_view target_;
  std::string tenant_;
  tenants::tenant_limits limits_;
  header_list common_headers_;
  std::chrono::seconds idle_timeout_;
  std::chrono::seconds body_idle_timeout_;
  bool responded_ = false;
  bool broken_ = false;
  bool continue_sent_ = false;
  bool streaming_ = false;
  bool stream_chunked_ = true;
  http::status response_status_ = http::status::unknown;

  // The recorded response: a string body, or a file to send when file_path_ is set.
  std::optional<http::response<http::string_body>> pending_;
  std::filesystem::path file_path_;
  std::string file_content_type_;
  std::string file_name_;

  // A recorded respond_file_part() response.
  struct file_part {
    http::status status;
    boost::beast::file file;
    std::uint64_t offset;
    std::uint64_t length;
    std::string content_type;
    header_list headers;
  };
  std::optional<file_part> file_part_;
};

}  // namespace jobgate::gateway
