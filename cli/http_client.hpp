#pragma once

#include <boost/system/result.hpp>
#include <chrono>
#include <cstdint>
#include <functional>
#include <iosfwd>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace jobgate::cli {

// The reason that a request got no response or a URL is unusable, as a phrase for people.
struct client_error {
  std::string message;
};

// The gateway's address: scheme, host, port and a path prefix without the final slash.
struct gateway_address {
  bool tls = false;  // https
  std::string host;
  std::string port;
  std::string base_path;
};

// Parses an http:// or https:// URL such as "http://127.0.0.1:8080" or "https://gw.example/api".
// Returns a message for other schemes and for a URL without a host.
boost::system::result<gateway_address, client_error> parse_gateway_url(std::string_view url);

// A multipart/form-data body whose file part is read from disk while it is sent, so its size never
// matters for memory. `head` ends with the file part's headers, `tail` closes the body.
struct streamed_upload {
  std::string head;
  std::string file_path;
  std::uint64_t file_size = 0;
  std::string tail;
  // Called after every chunk that was written with the bytes sent so far and the body size.
  std::function<void(std::uint64_t sent, std::uint64_t total)> on_progress;
};

struct http_request {
  std::string method = "GET";
  // A path and query below the gateway's base path, or an absolute URL such as a signed download
  // link.
  std::string target;
  std::vector<std::pair<std::string, std::string>> fields;
  std::string body;
  const streamed_upload* upload = nullptr;  // replaces `body` when set
  bool authenticate = true;                 // send the API key
};

struct http_response {
  unsigned status = 0;
  std::string content_type;
  std::optional<unsigned> retry_after;  // seconds, when the header is a number
  std::string location;
  // The body, except the body of a 2xx response that went to a body_sink.
  std::string body;
};

// Receives the body of a 2xx response piece by piece. Returns false to stop reading early.
using body_sink = std::function<bool(std::string_view bytes)>;

// Bounds of the retries of one request.
struct retry_policy {
  int max_attempts = 5;
  std::chrono::seconds max_delay{30};
};

// A blocking HTTP/1.1 client for one gateway, one connection per request, over TCP or TLS.
// Every request is retried after 503, 429 and 409 idempotency-key-in-use (waiting Retry-After)
// and after connection failures (waiting 1, 2, 4... seconds) up to the policy's bounds, with a
// notice on `notices` per retry. A request whose body went partly to a sink is not retried, and
// neither is a TLS handshake that failed certificate verification. Not thread-safe.
class http_client {
 public:
  http_client(gateway_address address, std::string api_key, std::ostream& notices,
              retry_policy policy = {});
  ~http_client();
  http_client(const http_client&) = delete;
  http_client& operator=(const http_client&) = delete;

  // Sends a request and reads its response. A 2xx body goes to `sink` when one is given. Returns
  // a message naming the address and the error when no response arrived within the retries.
  boost::system::result<http_response, client_error> send(const http_request& request,
                                                          const body_sink& sink = nullptr);

 private:
  struct state;
  std::unique_ptr<state> state_;
};

}  // namespace jobgate::cli
