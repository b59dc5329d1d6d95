#include "gateway/exchange.hpp"

#include <openssl/crypto.h>

#include <array>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/buffers_suffix.hpp>
#include <boost/beast/http/buffer_body.hpp>
#include <boost/beast/http/chunk_encode.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/file_body.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <type_traits>

#include "common/crypto/sha256.hpp"
#include "common/version.hpp"

namespace jobgate::gateway {

namespace asio = boost::asio;
namespace beast = boost::beast;

namespace {

constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);
constexpr std::size_t body_piece_bytes = 64 * 1024;

// The traceparent header, or an empty value when the request has none or several: Trace Context
// treats repeated traceparent headers as invalid, so the gateway starts a new trace for them.
std::string_view single_traceparent(const http::request<http::buffer_body>& request) {
  if (request.count("traceparent") != 1) {
    return {};
  }
  return request["traceparent"];
}

}  // namespace

exchange::exchange(beast::tcp_stream& stream, beast::flat_buffer& buffer, parser_type& parser,
                   connection_memory& memory, log::logger logger, std::string request_id,
                   std::chrono::seconds idle_timeout, std::chrono::seconds body_idle_timeout)
    : stream_(stream),
      buffer_(buffer),
      parser_(parser),
      memory_(memory),
      logger_(std::move(logger)),
      request_id_(std::move(request_id)),
      trace_(tracing::continue_or_start(single_traceparent(parser.get()))),
      target_(parser.get().target()),
      idle_timeout_(idle_timeout),
      body_idle_timeout_(body_idle_timeout) {
  logger_ = logger_.with("trace_id", trace_.trace_id());
}

connection_memory::~connection_memory() {
  OPENSSL_cleanse(api_key.data(), api_key.capacity());
}

std::string exchange::api_key_digest(std::string_view key) {
  // CRYPTO_memcmp takes the same time wherever the keys differ.
  if (memory_.api_key.size() != key.size() ||
      CRYPTO_memcmp(memory_.api_key.data(), key.data(), key.size()) != 0) {
    memory_.api_key_digest = crypto::sha256_hex(key);
    OPENSSL_cleanse(memory_.api_key.data(), memory_.api_key.size());
    memory_.api_key.assign(key);
  }
  return memory_.api_key_digest;
}

void exchange::set_tenant(std::string tenant) {
  logger_ = logger_.with("tenant", tenant);
  tenant_ = std::move(tenant);
}

asio::awaitable<boost::system::error_code> exchange::continue_if_expected() {
  const auto expect = parser_.get()[http::field::expect];
  if (continue_sent_ || !beast::iequals(expect, "100-continue")) {
    co_return boost::system::error_code{};
  }
  continue_sent_ = true;
  http::response<http::empty_body> interim{http::status::continue_, 11};
  stream_.expires_after(idle_timeout_);
  auto [error, bytes] = co_await http::async_write(stream_, interim, use_tuple);
  if (error) {
    broken_ = true;
  }
  co_return error;
}

asio::awaitable<boost::system::error_code> exchange::read_body_pieces(
    std::uint64_t max_bytes,
    const std::function<boost::system::error_code(std::string_view)>& consume) {
  const boost::system::error_code interim_error = co_await continue_if_expected();
  if (interim_error) {
    co_return interim_error;
  }
  parser_.body_limit(max_bytes);
  std::vector<char> piece(body_piece_bytes);
  while (!parser_.is_done()) {
    parser_.get().body().data = piece.data();
    parser_.get().body().size = piece.size();
    // One read_some per step, so a steady slow upload keeps moving the deadline while a stalled
    // one times out.
    stream_.expires_after(body_idle_timeout_);
    auto [error, bytes] = co_await http::async_read_some(stream_, buffer_, parser_, use_tuple);
    if (error == http::error::need_buffer) {
      error = {};
    }
    if (error) {
      // A malformed body or one over the limit still gets a response. A peer that went away or a
      // timeout, which closes the socket, leaves nobody to send it to.
      const bool answerable =
          error.category() == http::make_error_code(http::error::body_limit).category() &&
          error != http::error::end_of_stream && error != http::error::partial_message;
      broken_ = !answerable;
      co_return error;
    }
    const std::size_t filled = piece.size() - parser_.get().body().size;
    if (filled > 0) {
      if (auto rejected = consume(std::string_view(piece.data(), filled))) {
        co_return rejected;
      }
    }
  }
  co_return boost::system::error_code{};
}

asio::awaitable<boost::system::result<std::string>> exchange::read_body(std::uint64_t max_bytes) {
  std::string body;
  const std::function<boost::system::error_code(std::string_view)> append =
      [&body](std::string_view piece) {
        body.append(piece);
        return boost::system::error_code{};
      };
  const auto error = co_await read_body_pieces(max_bytes, append);
  if (error) {
    co_return error;
  }
  co_return body;
}

template <typename Response>
void exchange::set_common_headers(Response& response) const {
  static const std::string server_name = "jobgate/" + std::string(version());
  response.set(http::field::server, server_name);
  response.set("X-Request-Id", request_id_);
  for (const auto& [name, value] : common_headers_) {
    response.set(name, value);
  }
}

namespace {

// Renders a response's status line and header fields in HTTP/1.1 form, ending with the blank line.
void render_header(const http::response_header<>& header, std::string& out) {
  out += "HTTP/";
  out += static_cast<char>('0' + header.version() / 10);
  out += '.';
  out += static_cast<char>('0' + header.version() % 10);
  out += ' ';
  out += std::to_string(header.result_int());
  out += ' ';
  const auto reason = header.reason();
  out += reason.empty() ? http::obsolete_reason(header.result()) : reason;
  out += "\r\n";
  for (const auto& field : header) {
    out += field.name_string();
    out += ": ";
    out += field.value();
    out += "\r\n";
  }
  out += "\r\n";
}

}  // namespace

template <typename Response>
asio::awaitable<void> exchange::write(Response& response) {
  set_common_headers(response);
  response.keep_alive(!close_after_response());
  response.prepare_payload();
  // A 304 has no body, and a Content-Length would have to be that of the 200 response.
  if (response.result() == http::status::not_modified) {
    response.erase(http::field::content_length);
  }
  responded_ = true;
  response_status_ = response.result();
  boost::system::error_code error;
  if constexpr (std::is_same_v<typename Response::body_type, http::string_body>) {
    error = co_await write_in_memory(response);
  } else if (parser_.get().method() == http::verb::head) {
    // A HEAD response carries the GET response's headers, Content-Length included, but no body.
    stream_.expires_after(idle_timeout_);
    http::response_serializer<typename Response::body_type> serializer(response);
    auto [header_error, bytes] = co_await http::async_write_header(stream_, serializer, use_tuple);
    error = header_error;
  } else {
    stream_.expires_after(idle_timeout_);
    auto [body_error, bytes] = co_await http::async_write(stream_, response, use_tuple);
    error = body_error;
  }
  if (error) {
    broken_ = true;
    logger_.debug("response write failed", {{"error", error.message()}});
  }
}

asio::awaitable<boost::system::error_code> exchange::write_in_memory(
    const http::response<http::string_body>& response) {
  std::string header;
  header.reserve(256);
  render_header(response, header);
  // A HEAD response gets the header alone, Content-Length included.
  const std::string_view body =
      parser_.get().method() == http::verb::head ? std::string_view() : response.body();
  std::array<asio::const_buffer, 2> pieces{asio::buffer(header), asio::buffer(body)};

  // A response that fits the socket's send buffer goes out with one non-blocking send and no write
  // timer. The socket stays non-blocking, which only synchronous operations notice.
  auto& socket = stream_.socket();
  boost::system::error_code error;
  if (!socket.non_blocking()) {
    socket.non_blocking(true, error);
  }
  std::size_t sent = error ? 0 : socket.write_some(pieces, error);
  if (error && error != asio::error::would_block && error != asio::error::try_again &&
      error != asio::error::interrupted) {
    co_return error;
  }
  if (sent == header.size() + body.size()) {
    co_return boost::system::error_code{};
  }
  beast::buffers_suffix<std::array<asio::const_buffer, 2>> rest(pieces);
  rest.consume(sent);
  stream_.expires_after(idle_timeout_);
  auto [write_error, bytes] = co_await asio::async_write(stream_, rest, use_tuple);
  co_return write_error;
}

void exchange::respond(http::status status, std::string body, std::string_view content_type,
                       header_list headers) {
  pending_.emplace(status, parser_.get().version());
  if (!content_type.empty()) {
    pending_->set(http::field::content_type, content_type);
  }
  for (auto& [name, value] : headers) {
    pending_->set(name, value);
  }
  pending_->body() = std::move(body);
}

void exchange::respond_json(http::status status, std::string body, header_list headers) {
  respond(status, std::move(body), "application/json", std::move(headers));
}

void exchange::respond_problem(const problem& error, header_list headers) {
  const problem_info info = describe(error.kind);
  const std::string_view path = target_.substr(0, target_.find('?'));
  respond(info.status, problem_body(error, path), "application/problem+json", std::move(headers));
}

void exchange::respond_file(std::filesystem::path path, std::string_view content_type,
                            std::string_view download_name) {
  pending_.reset();
  file_path_ = std::move(path);
  file_content_type_ = content_type;
  file_name_ = download_name;
}

void exchange::respond_file_part(http::status status, beast::file file, std::uint64_t offset,
                                 std::uint64_t length, std::string_view content_type,
                                 header_list headers) {
  pending_.reset();
  file_path_.clear();
  file_part_.emplace(file_part{status, std::move(file), offset, length, std::string(content_type),
                               std::move(headers)});
}

asio::awaitable<void> exchange::write_file_part() {
  file_part& part = *file_part_;
  http::response<http::buffer_body> response{part.status, parser_.get().version()};
  set_common_headers(response);
  response.set(http::field::content_type, part.content_type);
  for (const auto& [name, value] : part.headers) {
    response.set(name, value);
  }
  response.keep_alive(!close_after_response());
  response.content_length(part.length);
  response.body().data = nullptr;
  response.body().more = true;
  responded_ = true;
  response_status_ = part.status;

  http::response_serializer<http::buffer_body> serializer(response);
  stream_.expires_after(idle_timeout_);
  auto [header_error, header_bytes] =
      co_await http::async_write_header(stream_, serializer, use_tuple);
  if (header_error) {
    broken_ = true;
    logger_.debug("response write failed", {{"error", header_error.message()}});
    co_return;
  }
  if (parser_.get().method() == http::verb::head) {
    co_return;
  }

  beast::error_code error;
  part.file.seek(part.offset, error);
  std::vector<char> piece(body_piece_bytes);
  std::uint64_t remaining = part.length;
  while (!error && remaining > 0) {
    const std::size_t to_read = remaining < piece.size() ? remaining : piece.size();
    const std::size_t got = part.file.read(piece.data(), to_read, error);
    if (error || got == 0) {
      // The file shrank or failed after Content-Length was sent; only closing can signal that.
      logger_.warn("result file read failed",
                   {{"error", error ? error.message() : std::string("unexpected end of file")},
                    {"missing_bytes", remaining}});
      broken_ = true;
      co_return;
    }
    response.body().data = piece.data();
    response.body().size = got;
    stream_.expires_after(idle_timeout_);
    auto [write_error, bytes] = co_await http::async_write(stream_, serializer, use_tuple);
    if (write_error && write_error != http::error::need_buffer) {
      broken_ = true;
      logger_.debug("response write failed", {{"error", write_error.message()}});
      co_return;
    }
    remaining -= got;
  }
  if (error) {
    logger_.warn("result file seek failed", {{"error", error.message()}});
    broken_ = true;
    co_return;
  }

  response.body().data = nullptr;
  response.body().more = false;
  auto [end_error, end_bytes] = co_await http::async_write(stream_, serializer, use_tuple);
  if (end_error) {
    broken_ = true;
    logger_.debug("response write failed", {{"error", end_error.message()}});
  }
}

asio::awaitable<bool> exchange::start_stream(http::status status, std::string_view content_type,
                                             const header_list& headers) {
  if (broken_ || streaming_) {
    co_return false;
  }
  streaming_ = true;
  responded_ = true;
  response_status_ = status;
  pending_.reset();
  http::response<http::empty_body> response{status, parser_.get().version()};
  set_common_headers(response);
  response.set(http::field::content_type, content_type);
  for (const auto& [name, value] : headers) {
    response.set(name, value);
  }
  // HTTP/1.0 has no chunked encoding: the body then ends when the connection closes.
  stream_chunked_ = parser_.get().version() >= 11;
  response.keep_alive(!close_after_response());
  response.chunked(stream_chunked_);
  http::response_serializer<http::empty_body> serializer(response);
  stream_.expires_after(idle_timeout_);
  auto [error, bytes] = co_await http::async_write_header(stream_, serializer, use_tuple);
  if (error) {
    broken_ = true;
    logger_.debug("response write failed", {{"error", error.message()}});
  }
  co_return !broken_ && parser_.get().method() != http::verb::head;
}

asio::awaitable<bool> exchange::send_chunk(std::string_view piece) {
  if (broken_ || !streaming_ || parser_.get().method() == http::verb::head) {
    co_return false;
  }
  if (piece.empty()) {
    co_return true;
  }
  stream_.expires_after(idle_timeout_);
  const asio::const_buffer bytes_out(piece.data(), piece.size());
  boost::system::error_code error;
  if (stream_chunked_) {
    auto [chunk_error, bytes] =
        co_await asio::async_write(stream_, http::make_chunk(bytes_out), use_tuple);
    error = chunk_error;
  } else {
    auto [raw_error, bytes] = co_await asio::async_write(stream_, bytes_out, use_tuple);
    error = raw_error;
  }
  if (error) {
    broken_ = true;
    logger_.debug("response write failed", {{"error", error.message()}});
  }
  co_return !broken_;
}

asio::awaitable<void> exchange::finish_stream() {
  if (broken_ || !streaming_ || !stream_chunked_ || parser_.get().method() == http::verb::head) {
    co_return;
  }
  stream_.expires_after(idle_timeout_);
  auto [error, bytes] = co_await asio::async_write(stream_, http::make_chunk_last(), use_tuple);
  if (error) {
    broken_ = true;
  }
}

void exchange::abandon_stream() {
  broken_ = true;
}

asio::awaitable<void> exchange::write_response() {
  // A body read that failed or timed out left the socket unusable, so nothing is sent.
  if (broken_ || streaming_) {
    co_return;
  }
  if (file_part_) {
    co_await write_file_part();
    co_return;
  }
  if (!file_path_.empty()) {
    http::response<http::file_body> response{http::status::ok, parser_.get().version()};
    beast::error_code error;
    response.body().open(file_path_.c_str(), beast::file_mode::scan, error);
    if (!error) {
      response.set(http::field::content_type, file_content_type_);
      response.set(http::field::content_disposition, "attachment; filename=\"" + file_name_ + "\"");
      response.set(http::field::cache_control, "private, no-store");
      co_await write(response);
      co_return;
    }
    logger_.warn("result file cannot be opened",
                 {{"path", file_path_.string()}, {"error", error.message()}});
    respond_problem(problem{problem_kind::result_expired, "The result file no longer exists."});
  }
  if (!pending_) {
    logger_.error("handler recorded no response");
    respond_problem(problem{problem_kind::internal_error, "The request was not answered."});
  }
  co_await write(*pending_);
}

bool exchange::close_after_response() const {
  return broken_ || close_requested_ || !parser_.is_done() || !parser_.get().keep_alive() ||
         (streaming_ && !stream_chunked_);
}

}  // namespace jobgate::gateway
