#include "worker/webhook_sender.hpp"

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <stdlib.h>

#include <atomic>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/use_future.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <catch2/catch.hpp>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <future>
#include <memory>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "redis_test_server.hpp"

namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = asio::ssl;
namespace webhooks = jobgate::webhooks;
using jobgate::worker::webhook_request;
using jobgate::worker::webhook_response;
using jobgate::worker::webhook_sender;
using jobgate::worker::webhook_sender_options;
using tcp = asio::ip::tcp;
using namespace std::chrono_literals;

constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);

const asio::ip::address loopback_v4 = asio::ip::make_address("127.0.0.1");

// ---------------------------------------------------------------------------------------------
// Certificates and files

struct evp_pkey_deleter {
  void operator()(EVP_PKEY* key) const noexcept { EVP_PKEY_free(key); }
};
struct x509_deleter {
  void operator()(X509* certificate) const noexcept { X509_free(certificate); }
};
struct x509_extension_deleter {
  void operator()(X509_EXTENSION* extension) const noexcept { X509_EXTENSION_free(extension); }
};
struct bio_deleter {
  void operator()(BIO* bio) const noexcept { BIO_free(bio); }
};

void require_openssl(bool succeeded, const char* step) {
  if (!succeeded) {
    throw std::runtime_error(std::string("OpenSSL failed to ") + step);
  }
}

// A self-signed certificate and its key, made in memory for one test.
struct test_certificate {
  std::unique_ptr<EVP_PKEY, evp_pkey_deleter> key;
  std::unique_ptr<X509, x509_deleter> certificate;
  std::string pem;
};

// Makes a P-256 certificate valid from an hour ago for a day, for `alt_names` written as an
// OpenSSL subjectAltName value such as "DNS:localhost,IP:127.0.0.1".
test_certificate make_certificate(const std::string& common_name, const std::string& alt_names) {
  test_certificate made;
  made.key.reset(EVP_EC_gen("P-256"));
  require_openssl(made.key != nullptr, "generate a P-256 key");
  made.certificate.reset(X509_new());
  X509* certificate = made.certificate.get();
  require_openssl(certificate != nullptr, "allocate a certificate");

  unsigned char serial_bytes[4];
  require_openssl(RAND_bytes(serial_bytes, sizeof serial_bytes) == 1, "draw a serial number");
  const long serial = (long{serial_bytes[0] & 0x7f} << 24) | (long{serial_bytes[1]} << 16) |
                      (long{serial_bytes[2]} << 8) | long{serial_bytes[3]};
  require_openssl(X509_set_version(certificate, 2) == 1, "set the certificate version");
  require_openssl(ASN1_INTEGER_set(X509_get_serialNumber(certificate), serial) == 1,
                  "set the serial number");
  require_openssl(X509_gmtime_adj(X509_getm_notBefore(certificate), -3600) != nullptr,
                  "set notBefore");
  require_openssl(X509_gmtime_adj(X509_getm_notAfter(certificate), 24 * 3600) != nullptr,
                  "set notAfter");

  X509_NAME* name = X509_get_subject_name(certificate);
  require_openssl(X509_NAME_add_entry_by_txt(
                      name, "CN", MBSTRING_ASC,
                      reinterpret_cast<const unsigned char*>(common_name.c_str()), -1, -1, 0) == 1,
                  "set the common name");
  require_openssl(X509_set_issuer_name(certificate, name) == 1, "set the issuer");
  require_openssl(X509_set_pubkey(certificate, made.key.get()) == 1, "set the public key");

  X509V3_CTX context;
  X509V3_set_ctx_nodb(&context);
  X509V3_set_ctx(&context, certificate, certificate, nullptr, nullptr, 0);
  const std::unique_ptr<X509_EXTENSION, x509_extension_deleter> alt_name_extension(
      X509V3_EXT_conf_nid(nullptr, &context, NID_subject_alt_name, alt_names.c_str()));
  require_openssl(alt_name_extension != nullptr, "build the subjectAltName extension");
  require_openssl(X509_add_ext(certificate, alt_name_extension.get(), -1) == 1,
                  "add the subjectAltName extension");
  require_openssl(X509_sign(certificate, made.key.get(), EVP_sha256()) > 0, "sign the certificate");

  const std::unique_ptr<BIO, bio_deleter> bio(BIO_new(BIO_s_mem()));
  require_openssl(bio != nullptr, "allocate a memory BIO");
  require_openssl(PEM_write_bio_X509(bio.get(), certificate) == 1, "write the certificate PEM");
  char* data = nullptr;
  const long size = BIO_get_mem_data(bio.get(), &data);
  made.pem.assign(data, static_cast<std::size_t>(size));
  return made;
}

// A directory under the system temporary directory, removed with its contents.
class temp_directory {
 public:
  temp_directory() {
    std::string pattern =
        (std::filesystem::temp_directory_path() / "jobgate-webhook-XXXXXX").string();
    if (::mkdtemp(pattern.data()) == nullptr) {
      throw std::runtime_error("mkdtemp failed for the webhook test directory");
    }
    path_ = pattern;
  }
  ~temp_directory() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }
  temp_directory(const temp_directory&) = delete;
  temp_directory& operator=(const temp_directory&) = delete;

  // Writes `content` to a file in the directory and returns its path.
  std::string write(const std::string& name, const std::string& content) const {
    const auto file = path_ / name;
    std::ofstream out(file, std::ios::binary);
    out << content;
    if (!out) {
      throw std::runtime_error("writing " + file.string() + " failed");
    }
    return file.string();
  }

 private:
  std::filesystem::path path_;
};

// ---------------------------------------------------------------------------------------------
// The receiving server

struct server_reply {
  unsigned status = 200;
  std::string body = "ok";
  std::vector<std::pair<std::string, std::string>> headers{};
  bool chunked = false;
  bool interim_continue = false;  // send "100 Continue" before the final response
  bool silent = false;            // read the request, then hold the connection without responding
  // When set, written as it is in place of a built response before the connection closes.
  std::string raw{};
};

struct received_request {
  http::request<http::string_body> message;
  std::string server_name;  // the SNI name a TLS client sent, empty without one
};

// An HTTP/1.1 server on 127.0.0.1 and an ephemeral port, running on its own thread. It responds to
// every request with the same reply and records what it accepted and received. Given a
// certificate, it speaks TLS.
class test_webhook_server {
 public:
  explicit test_webhook_server(server_reply reply, const test_certificate* certificate = nullptr)
      : reply_(std::move(reply)), acceptor_(io_, tcp::endpoint(loopback_v4, 0)) {
    if (certificate != nullptr) {
      tls_.emplace(ssl::context::tls_server);
      require_openssl(
          SSL_CTX_use_certificate(tls_->native_handle(), certificate->certificate.get()) == 1,
          "load the server certificate");
      require_openssl(SSL_CTX_use_PrivateKey(tls_->native_handle(), certificate->key.get()) == 1,
                      "load the server key");
    }
    port_ = acceptor_.local_endpoint().port();
    asio::co_spawn(io_, accept_loop(), asio::detached);
    thread_ = std::thread([this] { io_.run(); });
  }

  ~test_webhook_server() {
    io_.stop();
    thread_.join();
  }

  test_webhook_server(const test_webhook_server&) = delete;
  test_webhook_server& operator=(const test_webhook_server&) = delete;

  std::uint16_t port() const noexcept { return port_; }

  std::vector<received_request> requests() const {
    const std::lock_guard lock(mutex_);
    return requests_;
  }

  // Returns how many connections the server accepted before a probe connection made now. The
  // kernel queues connections in arrival order, so every earlier connection is counted.
  std::size_t accepted_before_probe() {
    asio::io_context probe_io;
    tcp::socket probe(probe_io);
    probe.connect(tcp::endpoint(loopback_v4, port_));
    const tcp::endpoint probe_endpoint = probe.local_endpoint();
    const auto deadline = std::chrono::steady_clock::now() + 10s;
    while (std::chrono::steady_clock::now() < deadline) {
      {
        const std::lock_guard lock(mutex_);
        for (std::size_t index = 0; index < peers_.size(); ++index) {
          if (peers_[index] == probe_endpoint) {
            return index;
          }
        }
      }
      std::this_thread::sleep_for(5ms);
    }
    throw std::runtime_error("the test server did not accept the probe connection within 10 s");
  }

 private:
  asio::awaitable<void> accept_loop() {
    for (;;) {
      auto [error, socket] = co_await acceptor_.async_accept(use_tuple);
      if (error) {
        co_return;
      }
      boost::system::error_code peer_error;
      const auto peer = socket.remote_endpoint(peer_error);
      {
        const std::lock_guard lock(mutex_);
        peers_.push_back(peer);
      }
      asio::co_spawn(io_, serve(std::move(socket)), asio::detached);
    }
  }

  asio::awaitable<void> serve(tcp::socket socket) {
    if (!tls_) {
      std::string no_server_name;
      co_await answer(socket, std::move(no_server_name));
      co_return;
    }
    ssl::stream<tcp::socket> stream(std::move(socket), *tls_);
    auto [error] = co_await stream.async_handshake(ssl::stream_base::server, use_tuple);
    if (error) {
      co_return;
    }
    // GCC 12 freed a conditional-expression temporary passed straight to this co_await call with
    // an invalid pointer, so the name is built first.
    const char* sent_name = SSL_get_servername(stream.native_handle(), TLSEXT_NAMETYPE_host_name);
    std::string server_name = sent_name != nullptr ? sent_name : "";
    co_await answer(stream, std::move(server_name));
  }

  template <class Stream>
  asio::awaitable<void> answer(Stream& stream, std::string server_name) {
    beast::flat_buffer buffer;
    http::request<http::string_body> request;
    auto [read_error, read_bytes] = co_await http::async_read(stream, buffer, request, use_tuple);
    (void)read_bytes;
    if (read_error) {
      co_return;
    }
    {
      const std::lock_guard lock(mutex_);
      requests_.push_back({std::move(request), std::move(server_name)});
    }

    if (reply_.silent) {
      asio::steady_timer hold(io_, 1h);
      auto [hold_error] = co_await hold.async_wait(use_tuple);
      (void)hold_error;
      co_return;
    }
    if (reply_.interim_continue) {
      static constexpr std::string_view interim = "HTTP/1.1 100 Continue\r\n\r\n";
      auto [interim_error, interim_bytes] =
          co_await asio::async_write(stream, asio::buffer(interim), use_tuple);
      (void)interim_bytes;
      if (interim_error) {
        co_return;
      }
    }

    if (!reply_.raw.empty()) {
      auto [raw_error, raw_bytes] =
          co_await asio::async_write(stream, asio::buffer(reply_.raw), use_tuple);
      (void)raw_error;
      (void)raw_bytes;
      co_return;
    }

    http::response<http::string_body> response{static_cast<http::status>(reply_.status), 11};
    for (const auto& [name, value] : reply_.headers) {
      response.set(name, value);
    }
    response.body() = reply_.body;
    if (reply_.chunked) {
      response.chunked(true);
    } else {
      response.prepare_payload();
    }
    auto [write_error, written] = co_await http::async_write(stream, response, use_tuple);
    (void)write_error;
    (void)written;
  }

  server_reply reply_;
  std::optional<ssl::context> tls_;
  // Declared after tls_ so that the coroutine frames it destroys go before the TLS context.
  asio::io_context io_;
  tcp::acceptor acceptor_;
  std::uint16_t port_ = 0;
  mutable std::mutex mutex_;
  std::vector<tcp::endpoint> peers_;
  std::vector<received_request> requests_;
  std::thread thread_;
};

// ---------------------------------------------------------------------------------------------
// The sending side

webhooks::address_policy allowing(const std::vector<std::string>& entries) {
  std::string error;
  auto policy = webhooks::address_policy::parse(entries, error);
  INFO(error);
  REQUIRE(policy.has_value());
  return *policy;
}

webhook_sender_options loopback_options() {
  webhook_sender_options options;
  options.allow_http = true;
  options.policy = allowing({"loopback"});
  return options;
}

const std::string event_body = R"({"type":"job.done","data":{"id":"job-1","status":"DONE"}})";

webhook_request request_to(bool tls, const std::string& host, std::uint16_t port,
                           const std::string& target = "/hooks") {
  webhook_request request;
  request.url.tls = tls;
  request.url.host = host;
  request.url.port = port;
  request.url.target = target;
  const bool ipv6 = host.find(':') != std::string::npos;
  request.url.text = std::string(tls ? "https://" : "http://") + (ipv6 ? "[" + host + "]" : host) +
                     ":" + std::to_string(port) + target;
  request.headers = {{"webhook-id", "msg_2KWPBgLlAfxdpx2AI54pPJ85f4W"},
                     {"webhook-timestamp", "1700000000"},
                     {"webhook-signature", "v1,K5oZfzN95Z9UVu1EsfQmfVNQhnkZ2pj9o9NDN/H/pI4="}};
  request.body = event_body;
  return request;
}

// Runs one send on a fresh io_context on this thread.
webhook_response send_once(const webhook_sender& sender, const webhook_request& request) {
  asio::io_context io;
  auto future = asio::co_spawn(io, sender.send(request), asio::use_future);
  io.run_for(60s);
  REQUIRE(future.wait_for(0s) == std::future_status::ready);
  return future.get();
}

bool starts_with(const std::string& text, const std::string& prefix) {
  return text.rfind(prefix, 0) == 0;
}

}  // namespace

TEST_CASE("webhook sender posts headers and body", "[webhook][sender]") {
  test_webhook_server server(server_reply{.status = 200, .body = "thanks"});
  const webhook_sender sender(loopback_options());
  const auto request = request_to(false, "127.0.0.1", server.port(), "/hooks/crm?source=jobgate");

  const auto response = send_once(sender, request);
  INFO(response.error);
  CHECK(response.error.empty());
  CHECK(response.status == 200);
  CHECK(response.address == "127.0.0.1");
  CHECK(response.body_excerpt == "thanks");
  CHECK(response.elapsed < 5000ms);

  const auto received = server.requests();
  REQUIRE(received.size() == 1);
  const auto& message = received[0].message;
  CHECK(message.method() == http::verb::post);
  CHECK(message.target() == "/hooks/crm?source=jobgate");
  CHECK(message.version() == 11);
  CHECK(message[http::field::host] == "127.0.0.1:" + std::to_string(server.port()));
  CHECK(message[http::field::content_type] == "application/json");
  CHECK(message[http::field::content_length] == std::to_string(event_body.size()));
  CHECK(message[http::field::connection] == "close");
  CHECK(message[http::field::user_agent] == "jobgate-webhooks/1");
  CHECK(message["webhook-id"] == "msg_2KWPBgLlAfxdpx2AI54pPJ85f4W");
  CHECK(message["webhook-timestamp"] == "1700000000");
  CHECK(message["webhook-signature"] == "v1,K5oZfzN95Z9UVu1EsfQmfVNQhnkZ2pj9o9NDN/H/pI4=");
  CHECK(message.body() == event_body);
}

TEST_CASE("webhook sender returns error statuses", "[webhook][sender]") {
  struct status_case {
    unsigned status;
    std::string body;
  };
  const status_case cases[] = {
      {500, "internal error"},
      {410, "gone"},
      {302, ""},
  };
  const webhook_sender sender(loopback_options());
  for (const auto& item : cases) {
    INFO("status " << item.status);
    server_reply reply{.status = item.status, .body = item.body};
    reply.headers = {{"Location", "/moved"}};
    test_webhook_server server(reply);

    const auto response = send_once(sender, request_to(false, "127.0.0.1", server.port()));
    INFO(response.error);
    CHECK(response.error.empty());
    CHECK(response.status == static_cast<int>(item.status));
    CHECK(response.body_excerpt == item.body);
    // A redirect is a status like any other: nothing follows the Location header.
    const auto received = server.requests();
    REQUIRE(received.size() == 1);
    CHECK(received[0].message.target() == "/hooks");
  }
}

TEST_CASE("webhook sender skips interim responses", "[webhook][sender]") {
  test_webhook_server server(
      server_reply{.status = 202, .body = "queued", .interim_continue = true});
  const webhook_sender sender(loopback_options());

  const auto response = send_once(sender, request_to(false, "127.0.0.1", server.port()));
  INFO(response.error);
  CHECK(response.error.empty());
  CHECK(response.status == 202);
  CHECK(response.body_excerpt == "queued");
}

TEST_CASE("default policy refuses loopback targets", "[webhook][sender][policy]") {
  test_webhook_server server(server_reply{});
  webhook_sender_options options;
  options.allow_http = true;
  const webhook_sender sender(options);

  for (const std::string host : {"127.0.0.1", "localhost", "::ffff:127.0.0.1", "0.0.0.0"}) {
    INFO("host " << host);
    const auto response = send_once(sender, request_to(false, host, server.port()));
    INFO(response.error);
    CHECK(starts_with(response.error, "refused "));
    CHECK(response.status == 0);
    CHECK(response.address.empty());
  }
  const auto response = send_once(sender, request_to(false, "127.0.0.1", server.port()));
  CHECK(response.error == "refused 127.0.0.1: a loopback address");

  CHECK(server.accepted_before_probe() == 0);
  CHECK(server.requests().empty());
}

TEST_CASE("loopback allowlist permits delivery", "[webhook][sender][policy]") {
  test_webhook_server server(server_reply{});
  const auto request = request_to(false, "localhost", server.port());

  // Only 127.0.0.1 is allowed, so a resolved ::1 would be dropped before any connect.
  webhook_sender_options options;
  options.allow_http = true;
  options.policy = allowing({"127.0.0.1"});
  const auto allowed = send_once(webhook_sender(options), request);
  INFO(allowed.error);
  CHECK(allowed.error.empty());
  CHECK(allowed.status == 200);
  CHECK(allowed.address == "127.0.0.1");
  REQUIRE(server.requests().size() == 1);
  CHECK(server.requests()[0].message[http::field::host] ==
        "localhost:" + std::to_string(server.port()));

  options.policy = allowing({"private"});
  const auto refused = send_once(webhook_sender(options), request);
  CHECK(starts_with(refused.error, "refused 127.0.0.1: "));
  CHECK(server.requests().size() == 1);
}

TEST_CASE("plain http refused unless allowed", "[webhook][sender]") {
  test_webhook_server server(server_reply{});
  auto options = loopback_options();
  options.allow_http = false;
  const webhook_sender sender(options);

  const auto response = send_once(sender, request_to(false, "127.0.0.1", server.port()));
  CHECK(response.status == 0);
  CHECK(response.error.find("plain http is not allowed") != std::string::npos);
  CHECK(response.address.empty());
  CHECK(server.accepted_before_probe() == 0);
}

TEST_CASE("invalid request header is not sent", "[webhook][sender]") {
  test_webhook_server server(server_reply{});
  const webhook_sender sender(loopback_options());
  const std::vector<std::pair<std::string, std::string>> bad_headers[] = {
      {{"webhook-id", "msg_1\r\nX-Injected: yes"}},
      {{"bad name", "value"}},
      {{"Content-Length", "5"}},
      {{"Host", "example.com"}},
  };
  for (const auto& headers : bad_headers) {
    INFO("header " << headers[0].first);
    auto request = request_to(false, "127.0.0.1", server.port());
    request.headers = headers;
    const auto response = send_once(sender, request);
    CHECK(starts_with(response.error, "invalid request header"));
    CHECK(response.status == 0);
  }
  CHECK(server.accepted_before_probe() == 0);
}

TEST_CASE("given headers replace content type", "[webhook][sender]") {
  test_webhook_server server(server_reply{});
  const webhook_sender sender(loopback_options());
  auto request = request_to(false, "127.0.0.1", server.port());
  request.headers.emplace_back("Content-Type", "application/cloudevents+json");
  request.headers.emplace_back("User-Agent", "crm-sync/2");

  const auto response = send_once(sender, request);
  INFO(response.error);
  CHECK(response.status == 200);
  const auto received = server.requests();
  REQUIRE(received.size() == 1);
  const auto& message = received[0].message;
  CHECK(message.count(http::field::content_type) == 1);
  CHECK(message[http::field::content_type] == "application/cloudevents+json");
  CHECK(message.count(http::field::user_agent) == 1);
  CHECK(message[http::field::user_agent] == "crm-sync/2");
}

TEST_CASE("silent server times out", "[webhook][sender][timeout]") {
  test_webhook_server server(server_reply{.silent = true});
  auto options = loopback_options();
  options.response_timeout = 300ms;
  const webhook_sender sender(options);

  const auto response = send_once(sender, request_to(false, "127.0.0.1", server.port()));
  CHECK(response.status == 0);
  CHECK(response.error == "response read timed out after 300 ms");
  CHECK(response.address == "127.0.0.1");
  CHECK(response.elapsed >= 300ms);
  CHECK(response.elapsed < 3000ms);
  CHECK(server.requests().size() == 1);
}

TEST_CASE("closed port fails to connect", "[webhook][sender]") {
  const std::uint16_t port = jobgate::test::unused_local_port();
  const webhook_sender sender(loopback_options());

  const auto response = send_once(sender, request_to(false, "127.0.0.1", port));
  INFO(response.error);
  CHECK(response.status == 0);
  CHECK(starts_with(response.error, "connect to 127.0.0.1:" + std::to_string(port) + " failed: "));
  CHECK(response.address.empty());
  CHECK(response.elapsed < 5000ms);
}

TEST_CASE("full listen backlog times out connect", "[webhook][sender][timeout]") {
  // A listener that never accepts and has a backlog of zero drops new SYNs once one connection
  // waits in its queue, so a connect to it stays pending.
  asio::io_context io;
  tcp::acceptor listener(io);
  listener.open(tcp::v4());
  listener.bind(tcp::endpoint(loopback_v4, 0));
  listener.listen(0);
  const tcp::endpoint target = listener.local_endpoint();

  std::vector<std::unique_ptr<tcp::socket>> fillers;
  bool queue_full = false;
  for (int attempt = 0; attempt < 16 && !queue_full; ++attempt) {
    auto filler = std::make_unique<tcp::socket>(io);
    bool connected = false;
    filler->async_connect(
        target, [&connected](const boost::system::error_code& error) { connected = !error; });
    io.restart();
    io.run_for(200ms);
    queue_full = !connected;
    fillers.push_back(std::move(filler));
  }
  if (!queue_full) {
    WARN("this kernel accepted 16 queued connections on a zero backlog; nothing left to test");
    return;
  }

  auto options = loopback_options();
  options.connect_timeout = 300ms;
  const webhook_sender sender(options);
  const auto response = send_once(sender, request_to(false, "127.0.0.1", target.port()));
  CHECK(response.status == 0);
  CHECK(response.error ==
        "connect timed out after 300 ms (127.0.0.1:" + std::to_string(target.port()) + ")");
  CHECK(response.address.empty());
  CHECK(response.elapsed >= 300ms);
  CHECK(response.elapsed < 3000ms);
}

TEST_CASE("https with trusted certificate", "[webhook][sender][tls]") {
  const auto certificate = make_certificate("localhost", "DNS:localhost,IP:127.0.0.1");
  const temp_directory directory;
  test_webhook_server server(server_reply{.status = 200, .body = "secure"}, &certificate);
  auto options = loopback_options();
  options.allow_http = false;
  options.policy = allowing({"127.0.0.1"});
  options.ca_file = directory.write("ca.pem", certificate.pem);
  const webhook_sender sender(options);

  SECTION("by name") {
    const auto response = send_once(sender, request_to(true, "localhost", server.port()));
    INFO(response.error);
    CHECK(response.error.empty());
    CHECK(response.status == 200);
    CHECK(response.address == "127.0.0.1");
    CHECK(response.body_excerpt == "secure");
    const auto received = server.requests();
    REQUIRE(received.size() == 1);
    CHECK(received[0].server_name == "localhost");
    CHECK(received[0].message.body() == event_body);
    CHECK(received[0].message["webhook-id"] == "msg_2KWPBgLlAfxdpx2AI54pPJ85f4W");
  }
  SECTION("by address") {
    const auto response = send_once(sender, request_to(true, "127.0.0.1", server.port()));
    INFO(response.error);
    CHECK(response.error.empty());
    CHECK(response.status == 200);
    const auto received = server.requests();
    REQUIRE(received.size() == 1);
    // SNI carries host names only, never an address.
    CHECK(received[0].server_name.empty());
  }
}

TEST_CASE("https without trusted CA fails", "[webhook][sender][tls]") {
  const auto certificate = make_certificate("localhost", "DNS:localhost,IP:127.0.0.1");
  test_webhook_server server(server_reply{}, &certificate);
  webhook_sender_options options;
  options.policy = allowing({"127.0.0.1"});
  const webhook_sender sender(options);

  const auto response = send_once(sender, request_to(true, "localhost", server.port()));
  INFO(response.error);
  CHECK(response.status == 0);
  CHECK(response.error == "TLS certificate verification failed: self-signed certificate");
  CHECK(response.address == "127.0.0.1");
  CHECK(server.requests().empty());
}

TEST_CASE("https certificate for another name", "[webhook][sender][tls]") {
  const auto certificate = make_certificate("hooks.example", "DNS:hooks.example");
  const temp_directory directory;
  test_webhook_server server(server_reply{}, &certificate);
  webhook_sender_options options;
  options.policy = allowing({"127.0.0.1"});
  options.ca_file = directory.write("ca.pem", certificate.pem);
  const webhook_sender sender(options);

  const auto by_name = send_once(sender, request_to(true, "localhost", server.port()));
  CHECK(by_name.status == 0);
  CHECK(by_name.error == "TLS certificate verification failed: hostname mismatch");

  const auto by_address = send_once(sender, request_to(true, "127.0.0.1", server.port()));
  CHECK(by_address.status == 0);
  CHECK(by_address.error == "TLS certificate verification failed: IP address mismatch");
  CHECK(server.requests().empty());
}

TEST_CASE("unreadable CA file throws", "[webhook][sender][tls]") {
  const temp_directory directory;
  webhook_sender_options missing;
  missing.ca_file = directory.write("unused.txt", "") + ".missing";
  CHECK_THROWS_AS(webhook_sender(missing), std::runtime_error);

  webhook_sender_options garbage;
  garbage.ca_file = directory.write("garbage.pem", "not a certificate\n");
  CHECK_THROWS_AS(webhook_sender(garbage), std::runtime_error);
}

TEST_CASE("truncated body keeps status", "[webhook][sender]") {
  server_reply reply;
  reply.raw = "HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\nfirst part";
  test_webhook_server server(reply);
  const webhook_sender sender(loopback_options());

  const auto response = send_once(sender, request_to(false, "127.0.0.1", server.port()));
  CHECK(response.status == 200);
  CHECK(response.error == "response body read failed: the server closed the connection");
  CHECK(response.body_excerpt == "first part");
}

TEST_CASE("large response body is cut", "[webhook][sender]") {
  std::string large_body(1024 * 1024, '\0');
  for (std::size_t index = 0; index < large_body.size(); ++index) {
    large_body[index] = static_cast<char>('a' + index % 26);
  }
  for (const bool chunked : {false, true}) {
    INFO("chunked " << chunked);
    test_webhook_server server(server_reply{.status = 200, .body = large_body, .chunked = chunked});
    const webhook_sender sender(loopback_options());

    const auto response = send_once(sender, request_to(false, "127.0.0.1", server.port()));
    INFO(response.error);
    CHECK(response.error.empty());
    CHECK(response.status == 200);
    CHECK(response.body_excerpt.size() == 512);
    CHECK(response.body_excerpt == large_body.substr(0, 512));
  }

  // A maximum below the excerpt size also bounds the excerpt.
  test_webhook_server server(server_reply{.status = 201, .body = large_body});
  auto options = loopback_options();
  options.max_response_bytes = 100;
  const auto response =
      send_once(webhook_sender(options), request_to(false, "127.0.0.1", server.port()));
  CHECK(response.error.empty());
  CHECK(response.status == 201);
  CHECK(response.body_excerpt == large_body.substr(0, 100));
}
