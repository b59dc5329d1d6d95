#pragma once

#include <boost/asio/awaitable.hpp>
#include <chrono>
#include <cstddef>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "common/webhooks/address_policy.hpp"
#include "common/webhooks/target_url.hpp"

namespace boost::asio::ssl {
class context;
}

namespace jobgate::worker {

// One webhook POST. The sender adds Host, Content-Type, Content-Length, Connection and
// User-Agent; `headers` may replace Content-Type and User-Agent but not the others.
struct webhook_request {
  webhooks::target_url url;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
};

// The outcome of one delivery attempt, for the delivery log and the retry decision.
struct webhook_response {
  int status = 0;  // 0 when no HTTP response arrived
  // Empty when a complete response arrived, else a sentence such as "connect timed out after
  // 5000 ms". When the header arrived but the body was cut short, both status and error are set.
  std::string error;
  std::string address;  // the address connected to, empty when no connection was made
  std::chrono::milliseconds elapsed{0};
  std::string body_excerpt;  // at most the first 512 bytes of the response body
};

struct webhook_sender_options {
  // Covers name resolution, the TCP connect to every allowed address and the TLS handshake.
  std::chrono::milliseconds connect_timeout{5000};
  // Covers writing the request and reading the whole response.
  std::chrono::milliseconds response_timeout{15000};
  bool allow_http = false;  // plain http targets are rejected unless set
  std::string ca_file;      // PEM bundle trusted besides the system store, empty for none
  webhooks::address_policy policy;
  // A larger body is read up to this many bytes before the connection is closed, and its status
  // still counts.
  std::size_t max_response_bytes = 64 * 1024;
  std::string user_agent = "jobgate-webhooks/1";
};

// Sends webhook requests over HTTP/1.1, one connection per request, without following redirects.
// Connections go only to resolved addresses that the address policy allows, so a target name
// cannot steer a delivery into the internal network. Owns one TLS client context that concurrent
// sends on any executor share.
class webhook_sender {
 public:
  // Throws std::runtime_error when the system certificate store or `ca_file` cannot be loaded.
  explicit webhook_sender(webhook_sender_options options);
  ~webhook_sender();
  webhook_sender(webhook_sender&&) noexcept;
  webhook_sender& operator=(webhook_sender&&) noexcept;

  // Delivers the request once. Network, TLS and HTTP failures are reported in the response
  // instead of thrown. The sender and `request` must outlive the returned awaitable.
  boost::asio::awaitable<webhook_response> send(const webhook_request& request) const;

  const webhook_sender_options& options() const noexcept { return options_; }

 private:
  webhook_sender_options options_;
  std::unique_ptr<boost::asio::ssl::context> tls_;
};

}  // namespace jobgate::worker
