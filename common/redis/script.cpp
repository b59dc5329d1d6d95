#include "common/redis/script.hpp"

#include <openssl/evp.h>

#include <optional>
#include <stdexcept>

#include "common/redis/async_connection.hpp"
#include "common/redis/connection.hpp"

namespace jobgate::redis {

namespace {

std::string sha1_hex(std::string_view text) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  if (EVP_Digest(text.data(), text.size(), digest, &length, EVP_sha1(), nullptr) != 1) {
    // Only a broken OpenSSL installation fails here, at start-up when scripts are built.
    throw std::runtime_error("OpenSSL could not compute a SHA1 digest");
  }
  static constexpr char hex_digits[] = "0123456789abcdef";
  std::string hex;
  hex.reserve(length * 2);
  for (unsigned int i = 0; i < length; ++i) {
    hex += hex_digits[digest[i] >> 4];
    hex += hex_digits[digest[i] & 0x0f];
  }
  return hex;
}

bool is_noscript(const boost::system::result<reply>& outcome) {
  return outcome && is_noscript(*outcome);
}

// The EVALSHA form of an EVAL request, or nullopt when the request is not an EVAL.
std::optional<request> by_digest(const request& eval) {
  if (eval.size() < 3 || eval.name() != "EVAL") {
    return std::nullopt;
  }
  request digest_form{"EVALSHA", sha1_hex(eval[1])};
  for (std::size_t i = 2; i < eval.size(); ++i) {
    digest_form.push_back(eval[i]);
  }
  return digest_form;
}

}  // namespace

bool is_noscript(const reply& value) {
  return value.is_error() && value.error_prefix() == "NOSCRIPT";
}

request evalsha_form(const request& eval) {
  auto digest_form = by_digest(eval);
  return digest_form ? std::move(*digest_form) : eval;
}

boost::system::result<reply> run_eval(connection& target, const request& eval) {
  if (auto digest_form = by_digest(eval)) {
    auto outcome = target.command(*digest_form);
    if (!is_noscript(outcome)) {
      return outcome;
    }
  }
  return target.command(eval);
}

boost::asio::awaitable<boost::system::result<reply>> async_run_eval(async_connection& target,
                                                                    request eval) {
  if (auto digest_form = by_digest(eval)) {
    auto outcome = co_await target.async_command(std::move(*digest_form));
    if (!is_noscript(outcome)) {
      co_return outcome;
    }
  }
  co_return co_await target.async_command(std::move(eval));
}

script::script(std::string_view source) : source_(source), sha1_(sha1_hex(source)) {}

template <typename Keys, typename Arguments>
request script::build_request(std::string_view command, std::string_view script_argument,
                              const Keys& keys, const Arguments& arguments) const {
  request result;
  std::size_t bytes = command.size() + script_argument.size() + 20;
  for (const auto& key : keys) {
    bytes += std::string_view(key).size();
  }
  for (const auto& argument : arguments) {
    bytes += std::string_view(argument).size();
  }
  result.reserve(3 + keys.size() + arguments.size(), bytes);

  result.push_back(command);
  result.push_back(script_argument);
  result.push_back(static_cast<long long>(keys.size()));
  for (const auto& key : keys) {
    result.push_back(std::string_view(key));
  }
  for (const auto& argument : arguments) {
    result.push_back(std::string_view(argument));
  }
  return result;
}

request script::evalsha_request(std::span<const std::string_view> keys,
                                std::span<const std::string_view> arguments) const {
  return build_request("EVALSHA", sha1_, keys, arguments);
}

request script::eval_request(std::span<const std::string_view> keys,
                             std::span<const std::string_view> arguments) const {
  return build_request("EVAL", source_, keys, arguments);
}

template <typename Keys, typename Arguments>
boost::system::result<reply> script::run_with(connection& target, const Keys& keys,
                                              const Arguments& arguments) const {
  auto outcome = target.command(build_request("EVALSHA", sha1_, keys, arguments));
  if (!is_noscript(outcome)) {
    return outcome;
  }
  return target.command(build_request("EVAL", source_, keys, arguments));
}

boost::system::result<reply> script::run(connection& target,
                                         std::initializer_list<std::string_view> keys,
                                         std::initializer_list<std::string_view> arguments) const {
  return run_with(target, keys, arguments);
}

boost::system::result<reply> script::run(connection& target, std::span<const std::string_view> keys,
                                         std::span<const std::string_view> arguments) const {
  return run_with(target, keys, arguments);
}

boost::system::result<reply> script::run(connection& target, std::span<const std::string> keys,
                                         std::span<const std::string> arguments) const {
  return run_with(target, keys, arguments);
}

boost::asio::awaitable<boost::system::result<reply>> script::async_run_requests(
    async_connection& target, request by_digest, request by_source) const {
  auto outcome = co_await target.async_command(std::move(by_digest));
  if (!is_noscript(outcome)) {
    co_return outcome;
  }
  co_return co_await target.async_command(std::move(by_source));
}

boost::asio::awaitable<boost::system::result<reply>> script::async_run(
    async_connection& target, std::initializer_list<std::string_view> keys,
    std::initializer_list<std::string_view> arguments) const {
  return async_run_requests(target, build_request("EVALSHA", sha1_, keys, arguments),
                            build_request("EVAL", source_, keys, arguments));
}

boost::asio::awaitable<boost::system::result<reply>> script::async_run(
    async_connection& target, std::span<const std::string_view> keys,
    std::span<const std::string_view> arguments) const {
  return async_run_requests(target, build_request("EVALSHA", sha1_, keys, arguments),
                            build_request("EVAL", source_, keys, arguments));
}

boost::asio::awaitable<boost::system::result<reply>> script::async_run(
    async_connection& target, std::span<const std::string> keys,
    std::span<const std::string> arguments) const {
  return async_run_requests(target, build_request("EVALSHA", sha1_, keys, arguments),
                            build_request("EVAL", source_, keys, arguments));
}

}  // namespace jobgate::redis
