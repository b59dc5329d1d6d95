#include "gateway/webhook_routes.hpp"

#include <algorithm>
#include <array>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/experimental/concurrent_channel.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <cctype>
#include <charconv>
#include <chrono>
#include <cmath>
#include <memory>
#include <stdexcept>

#include "common/clock.hpp"
#include "common/crypto/random.hpp"
#include "common/webhooks/target_url.hpp"
#include "common/webhooks/webhook_signature.hpp"
#include "gateway/request_checks.hpp"

namespace jobgate::gateway {

namespace asio = boost::asio;

namespace {

using namespace asio::experimental::awaitable_operators;

// A lookup of a webhook host ends after this long, so a slow or hostile name server cannot hold a
// request, whatever the system resolver's own timeouts are.
constexpr auto resolve_timeout = std::chrono::seconds(5);
constexpr std::int64_t default_overlap_seconds = 86400;
constexpr std::int64_t max_overlap_seconds = 7 * 86400;
constexpr std::int64_t default_delivery_page = 20;
constexpr std::int64_t max_delivery_page = 100;
constexpr std::size_t id_hex_digits = 24;
constexpr std::string_view delivery_prefix = "whd_";
constexpr std::string_view disabled_by_request = "disabled by a PATCH request";

using resolve_results = asio::ip::tcp::resolver::results_type;
using resolve_channel =
    asio::experimental::concurrent_channel<void(boost::system::error_code, resolve_results)>;

problem store_unavailable() {
  return {problem_kind::service_unavailable,
          "The webhook store is unavailable. Retry after the number of seconds in Retry-After."};
}

// Logs a failed store operation and records a 503 with Retry-After.
void respond_store_failure(exchange& current, std::string_view message,
                           const boost::system::error_code& error) {
  current.logger().warn(message, {{"error", error.message()}});
  current.respond_problem(store_unavailable(), one_header(http::field::retry_after, "2"));
}

void respond_method_not_allowed(exchange& current, std::string_view allowed) {
  current.respond_problem(method_not_allowed(allowed),
                          one_header(http::field::allow, std::string(allowed)));
}

// Webhook resources carry secrets or change with every delivery, so no cache may keep them.
void respond_uncached_json(exchange& current, http::status status, std::string body) {
  current.respond_json(status, std::move(body), one_header(http::field::cache_control, "no-store"));
}

// Validates a request body against its schema, or records a 400 naming the failing member and
// returns false. `what` names the body in the problem detail.
bool validate_or_respond(exchange& current, const json::schema_validator& schema,
                         const json::document& request, std::string_view what) {
  auto valid = schema.validate(request);
  if (!valid) {
    current.respond_problem(
        problem{problem_kind::invalid_request,
                "The " + std::string(what) + " is invalid: " + valid.error().message + "."}
            .with("field", valid.error().pointer)
            .with("keyword", valid.error().keyword));
  }
  return static_cast<bool>(valid);
}

// Generates a signing secret, or logs the failure and records a 500 and returns nullopt. `owner`
// is "webhook" or "callback" and names the secret in the messages.
std::optional<std::string> generate_secret_or_respond(exchange& current, std::string_view owner) {
  try {
    return webhooks::generate_secret();
  } catch (const std::exception& error) {
    current.logger().error(std::string(owner) + " secret could not be generated",
                           {{"error", error.what()}});
    current.respond_problem(
        problem{problem_kind::internal_error,
                "The " + std::string(owner) + " secret could not be generated."});
    return std::nullopt;
  }
}

bool is_hex_id(std::string_view text, std::string_view prefix) {
  if (!text.starts_with(prefix) || text.size() != prefix.size() + id_hex_digits) {
    return false;
  }
  return std::all_of(text.begin() + static_cast<std::ptrdiff_t>(prefix.size()), text.end(),
                     [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
}

std::string generate_id() {
  return std::string(webhook_routes::id_prefix) + crypto::random_hex(id_hex_digits / 2);
}

json::document empty_object() {
  json::document empty;
  empty.SetObject();
  return empty;
}

std::vector<std::string> string_items(const json::value& array) {
  std::vector<std::string> items;
  for (const auto& item : array.GetArray()) {
    if (item.IsString()) {
      items.emplace_back(item.GetString(), item.GetStringLength());
    }
  }
  return items;
}

void write_strings(json::writer& out, std::string_view name,
                   const std::vector<std::string>& items) {
  out.Key(name.data(), static_cast<rapidjson::SizeType>(name.size()));
  out.StartArray();
  for (const auto& item : items) {
    out.String(item.data(), static_cast<rapidjson::SizeType>(item.size()));
  }
  out.EndArray();
}

void write_time(json::writer& out, std::string_view name, std::int64_t millis) {
  if (millis > 0) {
    json::write_string(out, name, format_timestamp(millis));
  }
}

std::string subscription_json(const webhook_subscription& subscription, const std::string& base_url,
                              const std::string& secret = {}) {
  const std::string self = base_url + "/v1/webhooks/" + subscription.id;
  rapidjson::StringBuffer buffer;
  json::writer out(buffer);
  out.StartObject();
  json::write_string(out, "id", subscription.id);
  json::write_string(out, "url", subscription.url);
  write_strings(out, "events", subscription.events);
  if (!subscription.kinds.empty()) {
    write_strings(out, "kinds", subscription.kinds);
  }
  if (!subscription.description.empty()) {
    json::write_string(out, "description", subscription.description);
  }
  json::write_string(out, "status", subscription.status);
  if (subscription.status == "disabled") {
    json::write_string(out, "disabledReason", subscription.disabled_reason);
    write_time(out, "disabledAt", subscription.disabled_at);
  }
  write_time(out, "failingSince", subscription.failing_since);
  write_time(out, "createdAt", subscription.created_at);
  write_time(out, "updatedAt", subscription.updated_at);
  if (subscription.previous_secret_expires_at > now_millis()) {
    write_time(out, "previousSecretExpiresAt", subscription.previous_secret_expires_at);
  }
  if (!secret.empty()) {
    json::write_string(out, "secret", secret);
  }
  out.Key("links");
  out.StartObject();
  json::write_string(out, "self", self);
  json::write_string(out, "deliveries", self + "/deliveries");
  json::write_string(out, "rotateSecret", self + "/rotate-secret");
  out.EndObject();
  out.EndObject();
  return std::string(buffer.GetString(), buffer.GetSize());
}

void write_delivery(json::writer& out, const webhook_delivery& delivery) {
  out.StartObject();
  json::write_string(out, "id", delivery.id);
  json::write_string(out, "eventId", delivery.event_id);
  json::write_string(out, "eventType", delivery.event_type);
  json::write_string(out, "jobId", delivery.job_id);
  json::write_string(out, "status", delivery.status);
  out.Key("attempts");
  out.Int64(delivery.attempts);
  write_time(out, "createdAt", delivery.created_at);
  write_time(out, "nextAttemptAt", delivery.next_attempt_at);
  write_time(out, "lastAttemptAt", delivery.last_attempt_at);
  if (delivery.last_status_code > 0) {
    out.Key("lastStatusCode");
    out.Int64(delivery.last_status_code);
  }
  if (!delivery.last_error.empty()) {
    json::write_string(out, "lastError", delivery.last_error);
  }
  if (!delivery.failure_reason.empty()) {
    json::write_string(out, "failureReason", delivery.failure_reason);
  }
  write_time(out, "finishedAt", delivery.finished_at);
  out.Key("attemptLog");
  out.StartArray();
  for (const auto& entry : delivery.attempt_log) {
    // The dispatcher writes JSON objects; anything else is left out rather than sent malformed.
    if (auto parsed = json::parse(entry); parsed && parsed->IsObject()) {
      parsed->Accept(out);
    }
  }
  out.EndArray();
  out.EndObject();
}

std::string delivery_json(const webhook_delivery& delivery) {
  rapidjson::StringBuffer buffer;
  json::writer out(buffer);
  write_delivery(out, delivery);
  return std::string(buffer.GetString(), buffer.GetSize());
}

std::string secret_json(const std::string& secret, std::int64_t previous_expires_at) {
  rapidjson::StringBuffer buffer;
  json::writer out(buffer);
  out.StartObject();
  json::write_string(out, "secret", secret);
  write_time(out, "previousSecretExpiresAt", previous_expires_at);
  out.EndObject();
  return std::string(buffer.GetString(), buffer.GetSize());
}

problem webhook_not_found(std::string_view id) {
  return problem{problem_kind::webhook_not_found,
                 "No webhook subscription with id '" + std::string(id) + "'."}
      .with("value", std::string(id));
}

problem delivery_not_found(std::string_view id) {
  return problem{problem_kind::delivery_not_found,
                 "No delivery with id '" + std::string(id) + "' in this log."}
      .with("value", std::string(id));
}

problem refused(std::string detail, const std::string& field, const std::string& url) {
  return problem{problem_kind::webhook_target_refused, std::move(detail)}
      .with("field", field)
      .with("value", url);
}

// Resolves a host name with the resolver of the request's executor, for at most resolve_timeout.
// The lookup itself may run on after a timeout, so it owns its resolver and result channel.
asio::awaitable<boost::system::result<resolve_results>> resolve_bounded(const std::string& host,
                                                                        std::uint16_t port) {
  const auto executor = co_await asio::this_coro::executor;
  auto channel = std::make_shared<resolve_channel>(executor, 1);
  auto resolver = std::make_shared<asio::ip::tcp::resolver>(executor);
  resolver->async_resolve(
      host, std::to_string(port),
      [channel, resolver](const boost::system::error_code& error, resolve_results results) {
        channel->try_send(error, std::move(results));
      });
  asio::steady_timer timer(executor, resolve_timeout);
  auto received = channel->async_receive(asio::as_tuple(asio::use_awaitable));
  auto expired = timer.async_wait(asio::as_tuple(asio::use_awaitable));
  auto outcome = co_await (std::move(received) || std::move(expired));
  if (outcome.index() == 1) {
    co_return boost::system::error_code(asio::error::timed_out);
  }
  auto [error, results] = std::get<0>(std::move(outcome));
  if (error) {
    co_return error;
  }
  co_return results;
}

}  // namespace

asio::awaitable<std::optional<problem>> webhook_routes::check_target_url(std::string url,
                                                                         std::string field) const {
  std::string error;
  const auto target = webhooks::parse_target_url(url, error);
  if (!target) {
    // parse_target_url gives a lower-case clause; a problem detail is a sentence.
    if (!error.empty()) {
      error[0] = static_cast<char>(std::toupper(static_cast<unsigned char>(error[0])));
      error += '.';
    }
    co_return problem{problem_kind::invalid_webhook_url, error}
        .with("field", field)
        .with("value", url);
  }
  if (!target->tls && !services_.config.webhook_allow_http) {
    co_return problem{problem_kind::invalid_webhook_url,
                      "The URL must use https; this gateway accepts http URLs only when started "
                      "with --webhook-allow-http true."}
        .with("field", field)
        .with("value", url);
  }

  const auto& policy = services_.config.webhook_policy;
  boost::system::error_code literal_error;
  const auto literal = asio::ip::make_address(target->host, literal_error);
  if (!literal_error) {
    if (auto reason = policy.refusal(literal)) {
      co_return refused("The address " + literal.to_string() + " is " + *reason +
                            ", which webhooks may not reach.",
                        field, url);
    }
    co_return std::nullopt;
  }

  // Names under "invalid" never resolve (RFC 6761), so they need no lookup.
  std::string lower = target->host;
  std::transform(lower.begin(), lower.end(), lower.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  if (lower == "invalid" || lower.ends_with(".invalid")) {
    co_return refused("The host " + target->host +
                          " does not resolve: names under .invalid "
                          "never do.",
                      field, url);
  }
  auto resolved = co_await resolve_bounded(target->host, target->port);
  if (!resolved) {
    const bool timed_out = resolved.error() == asio::error::timed_out;
    co_return refused(timed_out ? "Resolving the host " + target->host + " took longer than 5 s."
                                : "The host " + target->host +
                                      " does not resolve: " + resolved.error().message() + ".",
                      field, url);
  }
  if (resolved->empty()) {
    co_return refused("The host " + target->host + " resolves to no address.", field, url);
  }
  // Every address must pass, because a delivery may connect to any of them.
  for (const auto& entry : *resolved) {
    const auto address = entry.endpoint().address();
    if (auto reason = policy.refusal(address)) {
      co_return refused("The host " + target->host + " resolves to " + address.to_string() + ", " +
                            *reason + ", which webhooks may not reach.",
                        field, url);
    }
  }
  co_return std::nullopt;
}

asio::awaitable<std::optional<problem>> webhook_routes::check_callback_url(
    const std::string& tenant, std::string url, std::string field) const {
  auto bad_url = co_await check_target_url(url, field);
  if (bad_url) {
    co_return bad_url;
  }
  auto has_secret = co_await services_.webhooks.has_callback_secret(tenant);
  if (!has_secret) {
    co_return store_unavailable();
  }
  if (!*has_secret) {
    co_return problem{problem_kind::callback_secret_missing,
                      "Callbacks are signed with the tenant's callback secret, and this tenant "
                      "has none yet. Create it with POST /v1/webhooks/callback-secret, then send "
                      "the job again."}
        .with("field", field);
  }
  co_return std::nullopt;
}

asio::awaitable<void> webhook_routes::handle(exchange& current, std::vector<std::string_view> path,
                                             std::string base_url) {
  const auto method = current.request().method();
  const bool is_get = method == http::verb::get || method == http::verb::head;
  const bool is_post = method == http::verb::post;

  if (path.empty()) {
    if (is_get) {
      co_await list(current, base_url);
    } else if (is_post) {
      co_await create(current, base_url);
    } else {
      respond_method_not_allowed(current, "GET, POST");
    }
    co_return;
  }
  if (path.size() == 1 && path[0] == "callback-secret") {
    if (is_post) {
      co_await rotate_callback_secret(current);
    } else {
      respond_method_not_allowed(current, "POST");
    }
    co_return;
  }

  // The callbacks log takes the place of a subscription id in the delivery paths.
  const std::string_view id = path[0];
  const bool callbacks = id == "callbacks";
  if (path.size() == 1 && !callbacks) {
    if (is_get) {
      co_await get(current, id, base_url);
    } else if (method == http::verb::patch) {
      co_await update(current, id, base_url);
    } else if (method == http::verb::delete_) {
      co_await remove(current, id);
    } else {
      respond_method_not_allowed(current, "GET, PATCH, DELETE");
    }
    co_return;
  }
  if (path.size() == 2 && path[1] == "rotate-secret" && !callbacks) {
    if (is_post) {
      co_await rotate_secret(current, id);
    } else {
      respond_method_not_allowed(current, "POST");
    }
    co_return;
  }
  if (path.size() == 2 && path[1] == "deliveries") {
    if (is_get) {
      co_await list_deliveries(current, id);
    } else {
      respond_method_not_allowed(current, "GET");
    }
    co_return;
  }
  if (path.size() == 4 && path[1] == "deliveries" && path[3] == "redeliver") {
    if (is_post) {
      co_await redeliver(current, id, path[2]);
    } else {
      respond_method_not_allowed(current, "POST");
    }
    co_return;
  }
  current.respond_problem(problem{problem_kind::not_found, "No resource at this path."});
}

asio::awaitable<std::optional<json::document>> webhook_routes::read_body(exchange& current,
                                                                         bool empty_allowed) {
  const auto length = current.content_length();
  if (empty_allowed && length && *length == 0) {
    co_return empty_object();
  }
  const auto content_type = current.request()[http::field::content_type];
  if (!has_media_type(content_type, "application/json")) {
    current.respond_problem(
        problem{problem_kind::unsupported_media_type, "The body is sent as application/json."}.with(
            "contentType", std::string(content_type)));
    co_return std::nullopt;
  }
  auto body = co_await read_limited_body(
      current, static_cast<std::uint64_t>(services_.config.max_json_bytes));
  if (!body) {
    co_return std::nullopt;
  }
  if (empty_allowed && body->empty()) {
    co_return empty_object();
  }
  auto parsed = json::parse(*body);
  if (!parsed) {
    current.respond_problem(problem{problem_kind::invalid_json,
                                    "The body is not valid JSON: " + parsed.error().message + "."}
                                .with("offset", std::to_string(parsed.error().offset)));
    co_return std::nullopt;
  }
  co_return std::optional<json::document>(std::move(*parsed));
}

asio::awaitable<std::optional<webhook_subscription>> webhook_routes::load(exchange& current,
                                                                          std::string_view id) {
  if (!is_hex_id(id, id_prefix)) {
    current.respond_problem(webhook_not_found(id));
    co_return std::nullopt;
  }
  auto found = co_await services_.webhooks.find(std::string(id));
  if (!found) {
    respond_store_failure(current, "webhook store read failed", found.error());
    co_return std::nullopt;
  }
  // Another tenant's subscription gets the same 404 as a missing one, so ids reveal nothing.
  if (!*found || (*found)->tenant != current.tenant()) {
    current.respond_problem(webhook_not_found(id));
    co_return std::nullopt;
  }
  co_return std::move(*found);
}

asio::awaitable<void> webhook_routes::list(exchange& current, const std::string& base_url) {
  auto subscriptions = co_await services_.webhooks.list(current.tenant());
  if (!subscriptions) {
    respond_store_failure(current, "webhook store read failed", subscriptions.error());
    co_return;
  }
  std::string body = R"({"data":[)";
  for (std::size_t i = 0; i < subscriptions->size(); ++i) {
    body += (i == 0 ? "" : ",") + subscription_json((*subscriptions)[i], base_url);
  }
  body += "]}";
  respond_uncached_json(current, http::status::ok, std::move(body));
}

asio::awaitable<void> webhook_routes::create(exchange& current, const std::string& base_url) {
  auto request = co_await read_body(current, false);
  if (!request) {
    co_return;
  }
  if (!validate_or_respond(current, services_.create_schema, *request, "webhook request")) {
    co_return;
  }
  webhook_subscription subscription;
  subscription.url = std::string(json::get_string(*request, "url").value_or(""));
  auto bad_url = co_await check_target_url(subscription.url, "/url");
  if (bad_url) {
    current.respond_problem(*bad_url);
    co_return;
  }
  subscription.tenant = current.tenant();
  subscription.events = string_items(*json::get_array(*request, "events"));
  if (const auto* kinds = json::get_array(*request, "kinds")) {
    subscription.kinds = string_items(*kinds);
  }
  // Both kinds listed is the same as none, and is stored as none so fan-out reads one form.
  if (subscription.kinds.size() == 2) {
    subscription.kinds.clear();
  }
  subscription.description = std::string(json::get_string(*request, "description").value_or(""));
  subscription.created_at = subscription.updated_at = now_millis();
  try {
    subscription.id = generate_id();
    subscription.secret = webhooks::generate_secret();
  } catch (const std::exception& error) {
    current.logger().error("webhook secret could not be generated", {{"error", error.what()}});
    current.respond_problem(
        problem{problem_kind::internal_error, "The webhook secret could not be generated."});
    co_return;
  }

  auto created = co_await services_.webhooks.create(subscription, max_per_tenant);
  if (!created) {
    respond_store_failure(current, "webhook could not be stored", created.error());
    co_return;
  }
  if (!*created) {
    current.respond_problem(problem{problem_kind::webhook_limit_reached,
                                    "A tenant has at most " + std::to_string(max_per_tenant) +
                                        " webhook subscriptions. Delete one before creating "
                                        "another."});
    co_return;
  }
  current.logger().info("webhook created", {{"webhook_id", subscription.id}});
  const std::string self = base_url + "/v1/webhooks/" + subscription.id;
  header_list headers = one_header(http::field::location, self);
  headers.emplace_back("Cache-Control", "no-store");
  current.respond_json(http::status::created,
                       subscription_json(subscription, base_url, subscription.secret),
                       std::move(headers));
}

asio::awaitable<void> webhook_routes::get(exchange& current, std::string_view id,
                                          const std::string& base_url) {
  auto subscription = co_await load(current, id);
  if (!subscription) {
    co_return;
  }
  respond_uncached_json(current, http::status::ok, subscription_json(*subscription, base_url));
}

asio::awaitable<void> webhook_routes::update(exchange& current, std::string_view id,
                                             const std::string& base_url) {
  auto subscription = co_await load(current, id);
  if (!subscription) {
    co_return;
  }
  auto request = co_await read_body(current, false);
  if (!request) {
    co_return;
  }
  if (!validate_or_respond(current, services_.update_schema, *request, "webhook update")) {
    co_return;
  }
  webhook_changes changes;
  changes.now = now_millis();
  if (auto url = json::get_string(*request, "url")) {
    changes.url = std::string(*url);
    auto bad_url = co_await check_target_url(*changes.url, "/url");
    if (bad_url) {
      current.respond_problem(*bad_url);
      co_return;
    }
  }
  if (const auto* events = json::get_array(*request, "events")) {
    changes.events = string_items(*events);
  }
  if (request->HasMember("kinds")) {
    const auto* kinds = json::get_array(*request, "kinds");
    changes.kinds = kinds == nullptr ? std::vector<std::string>{} : string_items(*kinds);
    if (changes.kinds->size() == 2) {
      changes.kinds->clear();
    }
  }
  if (auto description = json::get_string(*request, "description")) {
    changes.description = std::string(*description);
  }
  if (auto status = json::get_string(*request, "status")) {
    changes.status = std::string(*status);
    changes.disabled_reason = disabled_by_request;
  }

  auto updated = co_await services_.webhooks.update(current.tenant(), subscription->id, changes);
  if (!updated) {
    respond_store_failure(current, "webhook could not be updated", updated.error());
    co_return;
  }
  if (!*updated) {
    current.respond_problem(webhook_not_found(id));
    co_return;
  }
  // The response shows the stored state, which the dispatcher may have changed meanwhile.
  auto reloaded = co_await load(current, id);
  if (!reloaded) {
    co_return;
  }
  current.logger().info("webhook updated", {{"webhook_id", subscription->id}});
  respond_uncached_json(current, http::status::ok, subscription_json(*reloaded, base_url));
}

asio::awaitable<void> webhook_routes::remove(exchange& current, std::string_view id) {
  if (!is_hex_id(id, id_prefix)) {
    current.respond_problem(webhook_not_found(id));
    co_return;
  }
  auto removed = co_await services_.webhooks.remove(current.tenant(), std::string(id));
  if (!removed) {
    respond_store_failure(current, "webhook could not be deleted", removed.error());
    co_return;
  }
  if (!*removed) {
    current.respond_problem(webhook_not_found(id));
    co_return;
  }
  current.logger().info("webhook deleted", {{"webhook_id", std::string(id)}});
  current.respond(http::status::no_content, {}, {});
}

asio::awaitable<std::optional<std::int64_t>> webhook_routes::read_overlap(exchange& current) {
  auto request = co_await read_body(current, true);
  if (!request) {
    co_return std::nullopt;
  }
  const auto invalid = [&](std::string detail, std::string field) {
    current.respond_problem(
        problem{problem_kind::invalid_request, std::move(detail)}.with("field", std::move(field)));
  };
  if (!request->IsObject()) {
    invalid("The body must be a JSON object.", "");
    co_return std::nullopt;
  }
  std::int64_t overlap = default_overlap_seconds;
  for (const auto& member : request->GetObject()) {
    const std::string name(member.name.GetString(), member.name.GetStringLength());
    if (name != "overlapSeconds") {
      invalid("The body takes only overlapSeconds, not '" + name + "'.", "/" + name);
      co_return std::nullopt;
    }
    // JSON does not tell 86400 from 86400.0, so a number without a fraction counts as whole.
    const bool whole =
        member.value.IsNumber() && member.value.GetDouble() == std::floor(member.value.GetDouble());
    if (!whole || member.value.GetDouble() < 0 ||
        member.value.GetDouble() > static_cast<double>(max_overlap_seconds)) {
      invalid("overlapSeconds must be a whole number from 0 to " +
                  std::to_string(max_overlap_seconds) + ".",
              "/overlapSeconds");
      co_return std::nullopt;
    }
    overlap = static_cast<std::int64_t>(member.value.GetDouble());
  }
  co_return overlap;
}

asio::awaitable<void> webhook_routes::rotate_secret(exchange& current, std::string_view id) {
  auto subscription = co_await load(current, id);
  if (!subscription) {
    co_return;
  }
  auto overlap = co_await read_overlap(current);
  if (!overlap) {
    co_return;
  }
  const auto secret = generate_secret_or_respond(current, "webhook");
  if (!secret) {
    co_return;
  }
  const std::int64_t now = now_millis();
  auto rotated =
      co_await services_.webhooks.rotate_secret(subscription->id, *secret, now, *overlap * 1000);
  if (!rotated) {
    respond_store_failure(current, "webhook secret could not be stored", rotated.error());
    co_return;
  }
  if (!*rotated) {
    current.respond_problem(webhook_not_found(id));
    co_return;
  }
  current.logger().info("webhook secret rotated", {{"webhook_id", subscription->id}});
  respond_uncached_json(current, http::status::ok,
                        secret_json(*secret, *overlap > 0 ? now + *overlap * 1000 : 0));
}

asio::awaitable<void> webhook_routes::rotate_callback_secret(exchange& current) {
  auto overlap = co_await read_overlap(current);
  if (!overlap) {
    co_return;
  }
  const auto secret = generate_secret_or_respond(current, "callback");
  if (!secret) {
    co_return;
  }
  // A first secret has no predecessor, so its response names no previous secret expiry.
  auto existed = co_await services_.webhooks.has_callback_secret(current.tenant());
  if (!existed) {
    respond_store_failure(current, "webhook store read failed", existed.error());
    co_return;
  }
  const std::int64_t now = now_millis();
  auto rotated = co_await services_.webhooks.rotate_callback_secret(current.tenant(), *secret, now,
                                                                    *overlap * 1000);
  if (!rotated) {
    respond_store_failure(current, "callback secret could not be stored", rotated.error());
    co_return;
  }
  current.logger().info(*existed ? "callback secret rotated" : "callback secret created");
  const std::int64_t previous_expires_at = *existed && *overlap > 0 ? now + *overlap * 1000 : 0;
  respond_uncached_json(current, http::status::ok, secret_json(*secret, previous_expires_at));
}

asio::awaitable<void> webhook_routes::list_deliveries(exchange& current, std::string_view id) {
  std::string subscription(id);
  if (id != "callbacks") {
    auto found = co_await load(current, id);
    if (!found) {
      co_return;
    }
  }
  std::int64_t limit = default_delivery_page;
  if (auto text = query_parameter(current.target(), "limit")) {
    std::int64_t value = 0;
    const auto [end, error] = std::from_chars(text->data(), text->data() + text->size(), value);
    if (error != std::errc{} || end != text->data() + text->size() || value < 1 ||
        value > max_delivery_page) {
      current.respond_problem(problem{
          problem_kind::invalid_request,
          "limit must be a whole number from 1 to " + std::to_string(max_delivery_page) + "."}
                                  .with("field", "limit")
                                  .with("value", *text));
      co_return;
    }
    limit = value;
  }
  std::optional<std::string> after = query_parameter(current.target(), "after");
  if (after && !is_hex_id(*after, delivery_prefix)) {
    current.respond_problem(
        problem{problem_kind::invalid_request,
                "after must be a delivery id from the next member of an earlier page."}
            .with("field", "after")
            .with("value", *after));
    co_return;
  }
  auto page = co_await services_.webhooks.deliveries(current.tenant(), subscription, limit, after);
  if (!page) {
    respond_store_failure(current, "webhook store read failed", page.error());
    co_return;
  }
  rapidjson::StringBuffer buffer;
  json::writer out(buffer);
  out.StartObject();
  out.Key("data");
  out.StartArray();
  for (const auto& delivery : page->deliveries) {
    write_delivery(out, delivery);
  }
  out.EndArray();
  if (page->next) {
    json::write_string(out, "next", *page->next);
  }
  out.EndObject();
  respond_uncached_json(current, http::status::ok,
                        std::string(buffer.GetString(), buffer.GetSize()));
}

asio::awaitable<void> webhook_routes::redeliver(exchange& current, std::string_view id,
                                                std::string_view delivery_id) {
  std::optional<webhook_subscription> subscription;
  if (id != "callbacks") {
    subscription = co_await load(current, id);
    if (!subscription) {
      co_return;
    }
  }
  const std::string subscription_id(id);
  if (!is_hex_id(delivery_id, delivery_prefix)) {
    current.respond_problem(delivery_not_found(delivery_id));
    co_return;
  }
  auto found = co_await services_.webhooks.find_delivery(std::string(delivery_id));
  if (!found) {
    respond_store_failure(current, "webhook store read failed", found.error());
    co_return;
  }
  if (!*found || (*found)->tenant != current.tenant() ||
      (*found)->subscription != subscription_id) {
    current.respond_problem(delivery_not_found(delivery_id));
    co_return;
  }
  if (subscription && subscription->status != "enabled") {
    current.respond_problem(problem{problem_kind::webhook_disabled,
                                    "The subscription is disabled. Enable it with PATCH "
                                    "{\"status\": \"enabled\"} before sending a delivery again."});
    co_return;
  }
  auto outcome = co_await services_.webhooks.redeliver(current.tenant(), subscription_id,
                                                       std::string(delivery_id), now_millis());
  if (!outcome) {
    respond_store_failure(current, "delivery could not be queued", outcome.error());
    co_return;
  }
  if (*outcome == redelivery_outcome::missing) {
    current.respond_problem(delivery_not_found(delivery_id));
    co_return;
  }
  if (*outcome == redelivery_outcome::pending) {
    current.respond_problem(problem{problem_kind::delivery_pending,
                                    "The delivery is still pending; the dispatcher sends it when "
                                    "its next attempt is due."});
    co_return;
  }
  current.logger().info("delivery queued again", {{"webhook_id", subscription_id},
                                                  {"delivery_id", std::string(delivery_id)}});
  auto reloaded = co_await services_.webhooks.find_delivery(std::string(delivery_id));
  const webhook_delivery& shown = reloaded && *reloaded ? **reloaded : **found;
  respond_uncached_json(current, http::status::accepted, delivery_json(shown));
}

}  // namespace jobgate::gateway
