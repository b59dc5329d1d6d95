#include "gateway/router.hpp"

#include <algorithm>
#include <array>
#include <boost/asio/this_coro.hpp>
#include <boost/url/parse.hpp>
#include <boost/url/pct_string_view.hpp>
#include <cctype>
#include <charconv>
#include <chrono>

#include "common/blob/blob_keys.hpp"
#include "common/crypto/sha256.hpp"
#include "common/jobs/job_codec.hpp"
#include "common/jobs/job_event.hpp"
#include "common/kafka/kafka_error.hpp"
#include "common/records/import_request.hpp"
#include "common/records/property_value.hpp"
#include "gateway/download_response.hpp"
#include "gateway/entity_tag.hpp"
#include "gateway/error_report_response.hpp"
#include "gateway/import_preview.hpp"
#include "gateway/import_upload.hpp"
#include "gateway/media_type_choice.hpp"
#include "gateway/quota_checks.hpp"
#include "gateway/request_checks.hpp"
#include "gateway/ui_assets.hpp"
#include "proto/proto_files.hpp"

namespace jobgate::gateway {

namespace asio = boost::asio;

namespace {

// Seconds a client should wait before polling a job that is not finished.
constexpr std::string_view poll_interval_seconds = "2";
constexpr std::int64_t default_page_size = 100;
constexpr std::string_view idempotency_key_header = "Idempotency-Key";
constexpr std::size_t max_idempotency_key_length = 255;
// How long a claimed key blocks other requests with it when its own request never finishes, for
// example because the gateway stopped: above the broker's acknowledgement timeout.
constexpr std::int64_t idempotency_claim_ms = 60'000;
// A dry run checks the rows in this much of the file, and reports at most this many.
constexpr std::size_t dry_run_bytes = 1024 * 1024;
constexpr std::size_t dry_run_rows = 100;
constexpr std::string_view event_stream_type = "text/event-stream";
constexpr std::array<const char*, 2> created_filters = {"createdAfter", "createdBefore"};
constexpr std::int64_t default_list_size = 20;
constexpr std::int64_t max_list_size = 100;
// Maximum wait of a long poll, below the idle timeouts that proxies and load balancers commonly
// use.
constexpr std::int64_t max_wait_seconds = 60;
// An event stream sends a comment this often, which also makes it notice a client that left and
// reread the job in case a change notification was lost.
constexpr auto stream_keepalive = std::chrono::seconds(15);
// Event streams end after this long. Clients then reconnect, as EventSource does by itself.
constexpr auto stream_lifetime = std::chrono::minutes(30);
constexpr std::int64_t max_page_size = 1000;
// Far above any import's row count, and low enough that offset + limit cannot overflow.
constexpr std::int64_t max_error_offset = 1'000'000'000'000;

std::optional<std::int64_t> to_integer(std::string_view text) {
  std::int64_t value = 0;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error != std::errc{} || end != text.data() + text.size()) {
    return std::nullopt;
  }
  return value;
}

std::vector<std::string> query_parameters(std::string_view target, std::string_view name) {
  std::vector<std::string> values;
  auto parsed = boost::urls::parse_origin_form(target);
  if (parsed) {
    for (const auto& param : parsed->params()) {
      if (param.key == name && param.has_value) {
        values.emplace_back(param.value);
      }
    }
  }
  return values;
}

// Percent-encodes everything but RFC 3986's unreserved characters.
std::string percent_encode(std::string_view text) {
  static constexpr char hex[] = "0123456789ABCDEF";
  std::string encoded;
  for (const char c : text) {
    const auto byte = static_cast<unsigned char>(c);
    if (std::isalnum(byte) || c == '-' || c == '_' || c == '.' || c == '~') {
      encoded += c;
    } else {
      encoded += '%';
      encoded += hex[byte >> 4];
      encoded += hex[byte & 0x0F];
    }
  }
  return encoded;
}

// Decodes a percent-encoded path segment; nullopt when an escape is malformed.
std::optional<std::string> percent_decode(std::string_view text) {
  auto encoded = boost::urls::make_pct_string_view(text);
  if (!encoded) {
    return std::nullopt;
  }
  return encoded->decode();
}

void write_property(json::writer& out, const records::property_definition& property, bool custom) {
  out.StartObject();
  json::write_string(out, "name", property.name);
  json::write_string(out, "label", property.label);
  json::write_string(out, "type", records::to_string(property.type));
  if (!property.options.empty()) {
    out.Key("options");
    out.StartArray();
    for (const auto& option : property.options) {
      out.String(option.data(), static_cast<rapidjson::SizeType>(option.size()));
    }
    out.EndArray();
  }
  out.Key("unique");
  out.Bool(property.unique);
  out.Key("required");
  out.Bool(property.required);
  out.Key("custom");
  out.Bool(custom);
  out.EndObject();
}

std::string encode_cursor(const list_cursor& cursor) {
  return std::to_string(cursor.created_at) + "_" + cursor.id;
}

// A cursor is "MILLIS_ID". MILLIS has at most 18 digits, the bound that openapi.yaml states, so
// every cursor the pattern allows fits in std::int64_t and every other one is rejected.
std::optional<list_cursor> decode_cursor(std::string_view text) {
  constexpr std::size_t max_millis_digits = 18;
  const auto separator = text.find('_');
  if (separator == std::string_view::npos || separator > max_millis_digits) {
    return std::nullopt;
  }
  const auto created = to_integer(text.substr(0, separator));
  const auto id = job_id::parse(text.substr(separator + 1));
  if (!created || *created < 0 || !id) {
    return std::nullopt;
  }
  return list_cursor{*created, id->str()};
}

// Builds the 404 for a job id that is malformed, unknown or another tenant's.
problem job_not_found(std::string_view id) {
  return problem{problem_kind::job_not_found, "No job with id '" + std::string(id) + "'."}.with(
      "jobId", std::string(id));
}

problem store_unavailable() {
  return {problem_kind::service_unavailable,
          "The job store is unavailable. Retry after the number of seconds in Retry-After."};
}

header_list retry_after(std::string_view seconds) {
  return one_header(http::field::retry_after, std::string(seconds));
}

std::string job_json(const job_record& job, std::string_view base_url) {
  rapidjson::StringBuffer buffer(nullptr, json::document_capacity);
  json::writer out(buffer);
  write_job_resource(out, job, base_url);
  return std::string(buffer.GetString(), buffer.GetSize());
}

// The job message. It carries the tenant's custom properties of the object type as validated, so
// the worker checks values against the same definitions.
std::string job_message(const job_record& job, const json::document& request,
                        const std::vector<std::string>& custom_properties) {
  rapidjson::StringBuffer buffer;
  json::writer out(buffer);
  out.StartObject();
  json::write_string(out, "jobId", job.id);
  json::write_string(out, "tenant", job.tenant);
  json::write_string(out, "kind", to_string(job.kind));
  json::write_string(out, "createdAt", format_timestamp(job.created_at));
  if (!job.blob_key.empty()) {
    json::write_string(out, "blobKey", job.blob_key);
  }
  out.Key("request");
  request.Accept(out);
  if (!custom_properties.empty()) {
    out.Key("customProperties");
    out.StartArray();
    for (const auto& definition : custom_properties) {
      out.RawValue(definition.data(), definition.size(), rapidjson::kObjectType);
    }
    out.EndArray();
  }
  out.EndObject();
  return std::string(buffer.GetString(), buffer.GetSize());
}

// Returns the problem for an Idempotency-Key header that is present but malformed.
std::optional<problem> check_idempotency_key(const exchange& current) {
  const auto found = current.request().find(idempotency_key_header);
  if (found == current.request().end()) {
    return std::nullopt;
  }
  const std::string_view key = found->value();
  const bool printable =
      std::all_of(key.begin(), key.end(), [](char c) { return c >= 0x20 && c <= 0x7E; });
  if (key.empty() || key.size() > max_idempotency_key_length || !printable) {
    return problem{problem_kind::invalid_request, "Idempotency-Key must be 1 to " +
                                                      std::to_string(max_idempotency_key_length) +
                                                      " printable ASCII characters."}
        .with("field", std::string(idempotency_key_header))
        .with("value", std::string(key.substr(0, max_idempotency_key_length)));
  }
  return std::nullopt;
}

// The fingerprint of a request sent with an Idempotency-Key, or "" without one. An import adds the
// file's digest, so a retry with another multipart boundary has the same fingerprint.
std::string request_fingerprint(const exchange& current, job_kind kind,
                                const json::document& request, std::string_view file_digest) {
  if (current.request().find(idempotency_key_header) == current.request().end()) {
    return {};
  }
  return crypto::sha256_hex(std::string(to_string(kind)) + "\n" +
                            json::serialize_canonical(request) + "\n" + std::string(file_digest));
}

}  // namespace

router::router(gateway_services services)
    : services_(services),
      signer_(services.config.signing_secret),
      tenants_(services.config.limits, services.config.api_keys, services.api_keys),
      webhooks_({services.config, services.webhooks, services.webhook_schema,
                 services.webhook_update_schema}) {
  std::vector<std::string> tenants;
  for (const auto& [digest, tenant] : services.config.api_keys) {
    tenants.push_back(tenant);
  }
  metrics_.start_rate_limited_series(tenants);
}

std::string router::base_url(const exchange& current) const {
  if (!services_.config.public_url.empty()) {
    return services_.config.public_url;
  }
  const auto host = current.request()[http::field::host];
  return "http://" + std::string(host.empty() ? "localhost" : host);
}

asio::awaitable<std::optional<std::string>> router::authenticate(exchange& current) {
  std::string_view key = current.request()["X-API-Key"];
  const std::string_view authorization = current.request()[http::field::authorization];
  if (key.empty() && authorization.size() > 7 &&
      boost::beast::iequals(authorization.substr(0, 7), "Bearer ")) {
    key = authorization.substr(7);
  }
  // Keys are kept as digests; a lookup by digest reveals nothing about a key's prefix.
  std::string digest = key.empty() ? std::string{} : current.api_key_digest(key);
  std::optional<tenant_identity> identity;
  if (!digest.empty()) {
    auto found = co_await tenants_.find(digest);
    if (!found) {
      current.logger().warn("API key lookup failed", {{"error", found.error().message()}});
      current.respond_problem(store_unavailable(), retry_after("2"));
      co_return std::nullopt;
    }
    identity = std::move(found->identity);
    if (identity && found->loaded) {
      // Tenants from the store get their series at first sight, as configured ones at start.
      metrics_.start_rate_limited_series({identity->tenant});
    }
  }
  if (!identity) {
    current.logger().info("request rejected: missing or unknown API key");
    current.respond_problem(
        problem{problem_kind::unauthorized,
                "Send a valid API key as 'Authorization: Bearer KEY' or in the X-API-Key header."},
        one_header(http::field::www_authenticate, "Bearer"));
    co_return std::nullopt;
  }
  current.set_tenant(identity->tenant);
  current.set_limits(identity->limits);
  co_return digest;
}

rate_limit_policy router::limit_for(const exchange& current, limit_kind kind) {
  return policy_for(current.limits(), kind);
}

asio::awaitable<bool> router::check_rate_limit(exchange& current, const std::string& key_digest) {
  const limit_kind kind = limit_kind_for(current.request().method_string());
  const rate_limit_policy policy = limit_for(current, kind);
  if (!policy.enabled()) {
    co_return true;
  }
  // Without Redis no limited route can do its work either, so the request gets the same 503 as a
  // job store failure rather than passing unlimited.
  auto state = co_await services_.limiter.take(kind, key_digest, policy);
  if (!state) {
    current.logger().warn("rate limit check failed", {{"error", state.error().message()}});
    current.respond_problem(store_unavailable(), retry_after("2"));
    co_return false;
  }
  current.add_response_header("RateLimit-Policy", policy_field(kind, policy));
  current.add_response_header("RateLimit", state_field(kind, *state));
  if (!state->allowed) {
    metrics_.record_rate_limited(current.tenant(), kind);
    current.respond_problem(rate_limited_problem(kind, policy),
                            retry_after(std::to_string(wait_seconds(*state))));
    co_return false;
  }
  co_return true;
}

asio::awaitable<void> router::handle(exchange& current) {
  current.set_limits(services_.config.limits);
  const std::string_view target = current.target();
  const std::string_view path = target.substr(0, target.find('?'));
  const auto segments = split_path(path);
  const auto method = current.request().method();
  const bool is_get = method == http::verb::get || method == http::verb::head;
  const bool is_post = method == http::verb::post;

  if (segments.size() == 1 && (segments[0] == "healthz" || segments[0] == "readyz" ||
                               segments[0] == "metrics" || segments[0] == "openapi.yaml")) {
    if (!is_get) {
      current.respond_problem(method_not_allowed("GET"), one_header(http::field::allow, "GET"));
    } else if (segments[0] == "metrics") {
      const auto totals = co_await services_.jobs.totals();
      current.respond(http::status::ok, metrics_.render(totals), "text/plain; version=0.0.4");
    } else if (segments[0] == "healthz") {
      current.respond_json(http::status::ok, R"({"status":"ok"})");
    } else if (segments[0] == "readyz") {
      co_await ready(current);
    } else {
      current.respond(http::status::ok, std::string(*proto::find_file("openapi.yaml")),
                      "application/yaml");
    }
    co_return;
  }

  if (path == "/ui" || path.starts_with("/ui/")) {
    respond_with_ui_file(current, path);
    co_return;
  }

  // The request schemas that openapi.yaml references by relative path.
  if (segments.size() == 2 && segments[0] == "schemas") {
    const auto schema = proto::find_file("schemas/" + std::string(segments[1]));
    if (!is_get) {
      current.respond_problem(method_not_allowed("GET"), one_header(http::field::allow, "GET"));
    } else if (!schema || !segments[1].ends_with(".json")) {
      current.respond_problem(problem{problem_kind::not_found, "No schema with this name."});
    } else {
      current.respond(http::status::ok, std::string(*schema), "application/schema+json");
    }
    co_return;
  }

  if (segments.empty() || segments[0] != "v1") {
    current.respond_problem(problem{problem_kind::not_found, "No resource at this path."});
    co_return;
  }

  // Download links carry their own signature in place of an API key.
  if (segments.size() == 3 && segments[1] == "downloads") {
    if (!is_get) {
      current.respond_problem(method_not_allowed("GET"), one_header(http::field::allow, "GET"));
    } else {
      co_await download(current, segments[2]);
    }
    co_return;
  }

  const auto key_digest = co_await authenticate(current);
  if (!key_digest) {
    co_return;
  }
  if (!co_await check_rate_limit(current, *key_digest)) {
    co_return;
  }

  const auto collection = segments.size() >= 2 ? segments[1] : std::string_view{};
  if (collection == "webhooks") {
    std::vector<std::string_view> rest(segments.begin() + 2, segments.end());
    co_await webhooks_.handle(current, std::move(rest), base_url(current));
    co_return;
  }
  const auto kind = parse_job_kind(collection);

  if (segments.size() == 2 && (kind || collection == "jobs")) {
    const std::string allowed = kind ? "GET, POST" : "GET";
    if (is_get) {
      co_await list_jobs(current, kind);
    } else if (!is_post || !kind) {
      current.respond_problem(method_not_allowed(allowed), one_header(http::field::allow, allowed));
    } else if (*kind == job_kind::imports) {
      co_await create_import(current);
    } else {
      co_await create_export(current);
    }
    co_return;
  }

  if ((segments.size() == 3 || segments.size() == 4) && collection == "properties") {
    const std::string allowed = segments.size() == 3 ? "GET, POST" : "GET";
    if (is_get) {
      co_await get_properties(current, segments[2],
                              segments.size() == 4 ? segments[3] : std::string_view{});
    } else if (is_post && segments.size() == 3) {
      co_await create_property(current, segments[2]);
    } else {
      current.respond_problem(method_not_allowed(allowed), one_header(http::field::allow, allowed));
    }
    co_return;
  }

  if (segments.size() == 4 && collection == "objects") {
    if (!is_get) {
      current.respond_problem(method_not_allowed("GET"), one_header(http::field::allow, "GET"));
    } else {
      co_await get_record(current, segments[2], segments[3]);
    }
    co_return;
  }

  if (segments.size() == 4 && (kind || collection == "jobs") && segments[3] == "events") {
    if (!is_get) {
      current.respond_problem(method_not_allowed("GET"), one_header(http::field::allow, "GET"));
    } else {
      co_await stream_events(current, segments[2], kind);
    }
    co_return;
  }

  if (segments.size() == 3 && (kind || collection == "jobs")) {
    if (!is_get) {
      current.respond_problem(method_not_allowed("GET"), one_header(http::field::allow, "GET"));
    } else {
      co_await get_job(current, segments[2], kind);
    }
    co_return;
  }

  // /v1/jobs/{id}/cancel cancels a job of either kind, as /v1/jobs/{id} reads one.
  if (segments.size() == 4 && collection == "jobs" && segments[3] == "cancel") {
    const auto id = job_id::parse(segments[2]);
    if (!is_post) {
      current.respond_problem(method_not_allowed("POST"), one_header(http::field::allow, "POST"));
    } else if (!id || !id->kind()) {
      current.respond_problem(job_not_found(segments[2]));
    } else {
      co_await cancel(current, segments[2], *id->kind());
    }
    co_return;
  }

  if (segments.size() == 4 && kind) {
    const auto action = segments[3];
    if (action == "cancel") {
      if (!is_post) {
        current.respond_problem(method_not_allowed("POST"), one_header(http::field::allow, "POST"));
      } else {
        co_await cancel(current, segments[2], *kind);
      }
      co_return;
    }
    if (action == "result" || (action == "errors" && *kind == job_kind::imports)) {
      if (!is_get) {
        current.respond_problem(method_not_allowed("GET"), one_header(http::field::allow, "GET"));
      } else if (action == "result") {
        co_await get_result(current, segments[2], *kind);
      } else {
        co_await get_errors(current, segments[2]);
      }
      co_return;
    }
  }

  current.respond_problem(problem{problem_kind::not_found, "No resource at this path."});
}

asio::awaitable<void> router::ready(exchange& current) {
  if (draining_.load()) {
    current.respond_problem(
        problem{problem_kind::service_unavailable,
                "The gateway is shutting down. Send requests to another replica."},
        retry_after("1"));
    co_return;
  }
  const auto store_problem = co_await services_.jobs.check_readiness();
  if (!store_problem) {
    current.respond_problem(store_unavailable(), retry_after("5"));
  } else if (!store_problem->empty()) {
    current.respond_problem(problem{problem_kind::service_unavailable, *store_problem},
                            retry_after("5"));
  } else if (!services_.queue.reachable()) {
    current.respond_problem(
        problem{problem_kind::service_unavailable,
                "The job queue is unavailable. Retry after the number of seconds in Retry-After."},
        retry_after("5"));
  } else {
    current.respond_json(http::status::ok, R"({"status":"ready"})");
  }
}

std::optional<job_id> router::parse_job_id(exchange& current, std::string_view id,
                                           std::optional<job_kind> kind) {
  auto parsed = job_id::parse(id);
  if (!parsed || (kind && parsed->kind() != kind)) {
    current.respond_problem(job_not_found(id));
    return std::nullopt;
  }
  return parsed;
}

asio::awaitable<void> router::respond_job_missing(
    exchange& current, std::string_view id, const job_id& parsed,
    std::optional<boost::system::error_code> read_error, bool expired_is_gone) {
  if (read_error) {
    current.logger().warn("job store read failed",
                          {{"job_id", parsed.str()}, {"error", read_error->message()}});
    current.respond_problem(store_unavailable(), retry_after("2"));
    co_return;
  }
  if (expired_is_gone) {
    auto owner = co_await services_.jobs.expired_job_tenant(parsed.str());
    if (owner && *owner && **owner == current.tenant()) {
      current.respond_problem(
          problem{problem_kind::result_expired,
                  "The job finished longer ago than the retention period, so it and its result "
                  "were removed."}
              .with("jobId", parsed.str()));
      co_return;
    }
  }
  // Another tenant's job gets the same 404 as a missing one, so ids reveal nothing.
  current.respond_problem(job_not_found(id));
}

asio::awaitable<std::optional<job_record>> router::load_job(exchange& current, std::string_view id,
                                                            std::optional<job_kind> kind,
                                                            bool expired_is_gone) {
  const auto parsed = parse_job_id(current, id, kind);
  if (!parsed) {
    co_return std::nullopt;
  }
  auto found = co_await services_.jobs.find(parsed->str());
  if (found && *found && (*found)->tenant == current.tenant()) {
    co_return std::move(**found);
  }
  std::optional<boost::system::error_code> read_error;
  if (!found) {
    read_error = found.error();
  }
  // Only a job that is not there at all can have expired.
  co_await respond_job_missing(current, id, *parsed, read_error,
                               expired_is_gone && found && !*found);
  co_return std::nullopt;
}

asio::awaitable<std::shared_ptr<const job_snapshot>> router::load_status(
    exchange& current, std::string_view id, std::optional<job_kind> kind) {
  const auto parsed = parse_job_id(current, id, kind);
  if (!parsed) {
    co_return nullptr;
  }
  auto found = co_await services_.jobs.read_status(parsed->str());
  if (found && *found && (*found)->job().tenant == current.tenant()) {
    co_return std::move(*found);
  }
  std::optional<boost::system::error_code> read_error;
  if (!found) {
    read_error = found.error();
  }
  co_await respond_job_missing(current, id, *parsed, read_error, false);
  co_return nullptr;
}

asio::awaitable<void> router::get_job(exchange& current, std::string_view id,
                                      std::optional<job_kind> kind) {
  std::int64_t wait_seconds = 0;
  if (auto text = query_parameter(current.target(), "wait")) {
    const auto value = to_integer(*text);
    if (!value || *value < 0 || *value > max_wait_seconds) {
      current.respond_problem(problem{problem_kind::invalid_request,
                                      "wait must be a whole number of seconds from 0 to " +
                                          std::to_string(max_wait_seconds) + "."}
                                  .with("field", "wait")
                                  .with("value", *text));
      co_return;
    }
    wait_seconds = *value;
  }
  // A long poll's watch starts before the first read, so a change between the read and the wait
  // still wakes it. A plain read registers none, as a watch takes the feed's shared lock twice.
  std::shared_ptr<job_change_feed::watch> watch;
  if (wait_seconds > 0) {
    const auto executor = co_await asio::this_coro::executor;
    watch = services_.changes.watch_job(std::string(id), executor);
  }
  auto snapshot = co_await load_status(current, id, kind);
  if (!snapshot) {
    co_return;
  }
  // A long poll returns as soon as the job changed, or when the wait is over.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(wait_seconds);
  const std::int64_t seen = snapshot->job().updated_at;
  while (watch && !is_terminal(snapshot->job().status) && snapshot->job().updated_at == seen) {
    const auto left = deadline - std::chrono::steady_clock::now();
    if (left <= std::chrono::steady_clock::duration::zero()) {
      break;
    }
    const bool woken = co_await watch->wait(left);
    if (!woken) {
      continue;
    }
    auto reloaded = co_await services_.jobs.read_status(snapshot->job().id);
    if (!reloaded) {
      current.respond_problem(store_unavailable(), retry_after("2"));
      co_return;
    }
    // A job deleted during the wait (by hand, or evicted) is gone, not unchanged.
    if (!*reloaded) {
      current.respond_problem(job_not_found(id));
      co_return;
    }
    snapshot = std::move(*reloaded);
  }
  const job_record& job = snapshot->job();
  header_list headers;
  if (!is_terminal(job.status)) {
    headers.emplace_back("Retry-After", std::string(poll_interval_seconds));
  }
  headers.emplace_back("Cache-Control", "no-store");
  const std::string url = base_url(current);
  const auto body = snapshot->body(url, [&job, &url] { return job_json(job, url); });
  current.respond_json(http::status::ok, *body, std::move(headers));
}

asio::awaitable<std::optional<std::map<std::string, std::vector<std::string>>>>
router::load_custom_properties(exchange& current) {
  std::vector<std::string> object_types;
  for (const auto& object_type : services_.catalog.object_types()) {
    object_types.push_back(object_type.name);
  }
  auto definitions = co_await services_.jobs.custom_properties(current.tenant(), object_types);
  if (!definitions) {
    current.logger().warn("custom properties read failed",
                          {{"error", definitions.error().message()}});
    current.respond_problem(store_unavailable(), retry_after("2"));
    co_return std::nullopt;
  }
  co_return std::move(*definitions);
}

std::optional<records::property_catalog> router::tenant_catalog(
    exchange& current, const std::map<std::string, std::vector<std::string>>& custom) const {
  records::property_catalog catalog = services_.catalog;
  for (const auto& [object_type, definitions] : custom) {
    auto extended = catalog.with_custom_properties(object_type, definitions);
    if (!extended) {
      current.logger().error("stored custom property is invalid",
                             {{"object_type", object_type}, {"error", extended.error().message}});
      current.respond_problem(
          problem{problem_kind::internal_error, "The tenant's custom properties are unreadable."});
      return std::nullopt;
    }
    catalog = std::move(*extended);
  }
  return catalog;
}

asio::awaitable<void> router::get_properties(exchange& current, std::string_view object_type,
                                             std::string_view name) {
  if (services_.catalog.find_object_type(object_type) == nullptr) {
    current.respond_problem(
        problem{problem_kind::not_found, "No object type '" + std::string(object_type) + "'."}.with(
            "objectType", std::string(object_type)));
    co_return;
  }
  auto custom = co_await load_custom_properties(current);
  if (!custom) {
    co_return;
  }
  auto catalog = tenant_catalog(current, *custom);
  if (!catalog) {
    co_return;
  }
  const auto* object = catalog->find_object_type(object_type);
  const auto* builtin = services_.catalog.find_object_type(object_type);
  rapidjson::StringBuffer buffer;
  json::writer out(buffer);
  if (!name.empty()) {
    const auto* property = object->find_property(name);
    // A property that does not exist is a missing resource, as an unknown object type is.
    if (property == nullptr) {
      current.respond_problem(
          problem{problem_kind::not_found, "The object type " + std::string(object_type) +
                                               " has no property '" + std::string(name) + "'."}
              .with("value", std::string(name)));
      co_return;
    }
    write_property(out, *property, builtin->find_property(name) == nullptr);
  } else {
    out.StartObject();
    out.Key("results");
    out.StartArray();
    for (const auto& property : object->properties) {
      write_property(out, property, builtin->find_property(property.name) == nullptr);
    }
    out.EndArray();
    out.EndObject();
  }
  current.respond_json(http::status::ok, std::string(buffer.GetString(), buffer.GetSize()),
                       one_header(http::field::cache_control, "private, no-cache"));
}

asio::awaitable<void> router::create_property(exchange& current, std::string_view object_type) {
  if (services_.catalog.find_object_type(object_type) == nullptr) {
    current.respond_problem(
        problem{problem_kind::not_found, "No object type '" + std::string(object_type) + "'."}.with(
            "objectType", std::string(object_type)));
    co_return;
  }
  auto body = co_await read_json_body(current, "A property definition");
  if (!body) {
    co_return;
  }
  auto parsed = json::parse(*body);
  if (!parsed) {
    current.respond_problem(
        problem{problem_kind::invalid_json,
                "The property definition is not valid JSON: " + parsed.error().message + "."}
            .with("offset", std::to_string(parsed.error().offset)));
    co_return;
  }
  if (auto valid = services_.property_schema.validate(*parsed); !valid) {
    current.respond_problem(
        problem{problem_kind::invalid_request,
                "The property definition is invalid: " + valid.error().message + "."}
            .with("field", valid.error().pointer)
            .with("keyword", valid.error().keyword));
    co_return;
  }
  const std::string name(json::get_string(*parsed, "name").value_or(""));
  const std::string type(json::get_string(*parsed, "type").value_or(""));
  const bool has_options = json::get_array(*parsed, "options") != nullptr;
  if (has_options != (type == "enumeration")) {
    current.respond_problem(problem{problem_kind::invalid_request,
                                    type == "enumeration" ? "An enumeration needs options."
                                                          : "Only an enumeration takes options."}
                                .with("field", "/options"));
    co_return;
  }
  if (services_.catalog.find_property(object_type, name) != nullptr) {
    current.respond_problem(problem{
        problem_kind::property_exists,
        "The object type " + std::string(object_type) + " has a built-in property '" + name + "'."}
                                .with("value", name));
    co_return;
  }
  const std::string definition = json::serialize(*parsed);
  auto created = co_await services_.jobs.create_custom_property(
      current.tenant(), std::string(object_type), name, definition);
  if (!created) {
    current.logger().warn("custom property could not be stored",
                          {{"error", created.error().message()}});
    current.respond_problem(store_unavailable(), retry_after("2"));
    co_return;
  }
  if (!*created) {
    current.respond_problem(
        problem{problem_kind::property_exists, "The object type " + std::string(object_type) +
                                                   " already has a custom property '" + name + "'."}
            .with("value", name));
    co_return;
  }
  current.logger().info("custom property created",
                        {{"object_type", std::string(object_type)}, {"name", name}});
  records::property_catalog single = services_.catalog;
  (void)single.define_custom_property(object_type, definition);
  rapidjson::StringBuffer buffer;
  json::writer out(buffer);
  write_property(out, *single.find_property(object_type, name), true);
  current.respond_json(
      http::status::created, std::string(buffer.GetString(), buffer.GetSize()),
      one_header(http::field::location,
                 base_url(current) + "/v1/properties/" + std::string(object_type) + "/" + name));
}

asio::awaitable<void> router::get_record(exchange& current, std::string_view object_type,
                                         std::string_view encoded_key) {
  const auto decoded = percent_decode(encoded_key);
  const std::string key = decoded.value_or(std::string(encoded_key));
  const auto* object = services_.catalog.find_object_type(object_type);
  if (object == nullptr) {
    current.respond_problem(
        problem{problem_kind::not_found, "No object type '" + std::string(object_type) + "'."}.with(
            "objectType", std::string(object_type)));
    co_return;
  }
  std::string lookup(key);
  bool by_unique = false;
  if (auto id_property = query_parameter(current.target(), "idProperty")) {
    const auto* property = object->find_property(*id_property);
    if (*id_property != object->unique_property || property == nullptr) {
      current.respond_problem(
          problem{problem_kind::invalid_request, "idProperty must be the unique property of " +
                                                     std::string(object_type) + ", which is '" +
                                                     std::string(object->unique_property) + "'."}
              .with("field", "idProperty")
              .with("value", *id_property));
      co_return;
    }
    // The unique index contains normalised values, so the lookup value is normalised the same way.
    std::string normalised;
    const auto check =
        records::normalise_property_value(*property, key, records::date_format{}, normalised);
    if (check.state != records::value_state::valid) {
      current.respond_problem(problem{problem_kind::record_not_found,
                                      "No " + std::string(object_type) + " record has " +
                                          std::string(object->unique_property) + " '" +
                                          std::string(key) + "'."}
                                  .with("value", std::string(key)));
      co_return;
    }
    lookup = std::move(normalised);
    by_unique = true;
  } else if (key.empty() ||
             !std::all_of(key.begin(), key.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    current.respond_problem(
        problem{problem_kind::record_not_found,
                "No " + std::string(object_type) + " record has id '" + std::string(key) +
                    "'. Ids are numbers; to look up by " + std::string(object->unique_property) +
                    ", add ?idProperty=" + std::string(object->unique_property) + "."}
            .with("value", std::string(key)));
    co_return;
  }

  auto found = co_await services_.jobs.find_record(current.tenant(), std::string(object_type),
                                                   lookup, by_unique);
  if (!found) {
    current.logger().warn("record read failed", {{"error", found.error().message()}});
    current.respond_problem(store_unavailable(), retry_after("2"));
    co_return;
  }
  if (!*found) {
    current.respond_problem(
        problem{problem_kind::record_not_found,
                "No " + std::string(object_type) + " record matches '" + std::string(key) + "'."}
            .with("value", std::string(key)));
    co_return;
  }

  rapidjson::StringBuffer buffer;
  json::writer out(buffer);
  out.StartObject();
  json::write_string(out, "id", (*found)->id);
  json::write_string(out, "objectType", object_type);
  out.Key("properties");
  out.StartObject();
  std::int64_t created_at = 0;
  std::int64_t updated_at = 0;
  for (const auto& [name, value] : (*found)->fields) {
    if (name == "createdAt" || name == "updatedAt") {
      (name == "createdAt" ? created_at : updated_at) = to_integer(value).value_or(0);
    } else if (name != "id") {
      json::write_string(out, name, value);
    }
  }
  out.EndObject();
  if (created_at > 0) {
    json::write_string(out, "createdAt", format_timestamp(created_at));
  }
  if (updated_at > 0) {
    json::write_string(out, "updatedAt", format_timestamp(updated_at));
  }
  out.EndObject();
  current.respond_json(http::status::ok, std::string(buffer.GetString(), buffer.GetSize()),
                       one_header(http::field::cache_control, "private, no-cache"));
}

asio::awaitable<void> router::list_jobs(exchange& current, std::optional<job_kind> kind) {
  const auto target = current.target();
  job_list_query query;
  query.tenant = current.tenant();
  query.kind = kind;
  query.limit = default_list_size;
  const auto reject = [&](std::string_view field, std::string_view value, std::string detail) {
    current.respond_problem(problem{problem_kind::invalid_request, std::move(detail)}
                                .with("field", std::string(field))
                                .with("value", std::string(value)));
  };
  if (auto text = query_parameter(target, "limit")) {
    const auto value = to_integer(*text);
    if (!value || *value < 1 || *value > max_list_size) {
      reject("limit", *text,
             "limit must be a whole number from 1 to " + std::to_string(max_list_size) + ".");
      co_return;
    }
    query.limit = *value;
  }
  if (auto text = query_parameter(target, "after")) {
    query.after = decode_cursor(*text);
    if (!query.after) {
      reject("after", *text, "after must be a cursor from a previous page's paging.next.after.");
      co_return;
    }
  }
  for (const auto& text : query_parameters(target, "status")) {
    std::string_view rest = text;
    while (true) {
      const auto comma = rest.find(',');
      const auto name = rest.substr(0, comma);
      const auto status = parse_job_status(name);
      if (!status) {
        reject("status", name,
               "status must be PENDING, PROCESSING, DONE, FAILED or CANCELED, or a comma-separated "
               "list of them.");
        co_return;
      }
      if (std::find(query.statuses.begin(), query.statuses.end(), *status) ==
          query.statuses.end()) {
        query.statuses.push_back(*status);
      }
      if (comma == std::string_view::npos) {
        break;
      }
      rest.remove_prefix(comma + 1);
    }
  }
  for (const char* name : created_filters) {
    if (auto text = query_parameter(target, name)) {
      const auto millis = parse_timestamp(*text);
      if (!millis) {
        reject(name, *text,
               std::string(name) + " must be an RFC 3339 date-time such as 2026-01-31T09:00:00Z.");
        co_return;
      }
      (std::string_view(name) == "createdAfter" ? query.created_from : query.created_before) =
          *millis;
    }
  }

  auto page = co_await services_.jobs.list(query);
  if (!page) {
    current.logger().warn("job list read failed", {{"error", page.error().message()}});
    current.respond_problem(store_unavailable(), retry_after("2"));
    co_return;
  }

  rapidjson::StringBuffer buffer;
  json::writer out(buffer);
  out.StartObject();
  out.Key("results");
  out.StartArray();
  const std::string base = base_url(current);
  for (const auto& job : page->jobs) {
    write_job_resource(out, job, base);
  }
  out.EndArray();
  header_list headers;
  if (page->next) {
    const std::string after = encode_cursor(*page->next);
    std::string link = base + std::string(target.substr(0, target.find('?'))) +
                       "?limit=" + std::to_string(query.limit) + "&after=" + percent_encode(after);
    for (const auto status : query.statuses) {
      link += "&status=" + std::string(to_string(status));
    }
    if (query.created_from) {
      link += "&createdAfter=" + percent_encode(format_timestamp(*query.created_from));
    }
    if (query.created_before) {
      link += "&createdBefore=" + percent_encode(format_timestamp(*query.created_before));
    }
    out.Key("paging");
    out.StartObject();
    out.Key("next");
    out.StartObject();
    json::write_string(out, "after", after);
    json::write_string(out, "link", link);
    out.EndObject();
    out.EndObject();
    headers.emplace_back("Link", "<" + link + ">; rel=\"next\"");
  }
  out.EndObject();
  headers.emplace_back("Cache-Control", "no-store");
  current.respond_json(http::status::ok, std::string(buffer.GetString(), buffer.GetSize()),
                       std::move(headers));
}

asio::awaitable<void> router::stream_events(exchange& current, std::string_view id,
                                            std::optional<job_kind> kind) {
  const auto executor = co_await asio::this_coro::executor;
  const auto watch = services_.changes.watch_job(std::string(id), executor);
  auto job = co_await load_job(current, id, kind);
  if (!job) {
    co_return;
  }
  header_list headers;
  headers.emplace_back("Cache-Control", "no-store");
  headers.emplace_back("X-Accel-Buffering", "no");
  const bool open = co_await current.start_stream(http::status::ok, event_stream_type, headers);
  if (!open) {
    co_return;
  }
  const std::string base = base_url(current);
  std::int64_t sequence = 0;
  const auto event = [&](std::string_view name, const job_record& state) {
    return "id: " + std::to_string(++sequence) + "\nevent: " + std::string(name) +
           "\ndata: " + job_json(state, base) + "\n\n";
  };

  // The first event is the current state, so a client that reconnects gets it again.
  std::string first = "retry: 2000\n" + event(is_terminal(job->status) ? "end" : "status", *job);
  bool alive = co_await current.send_chunk(first);
  const auto stop_at = std::chrono::steady_clock::now() + stream_lifetime;
  // A draining gateway ends its streams within one keep-alive interval; clients then reconnect to
  // another replica, as EventSource does by itself.
  while (alive && !draining_.load() && !is_terminal(job->status) &&
         std::chrono::steady_clock::now() < stop_at) {
    const bool woken = co_await watch->wait(stream_keepalive);
    auto reloaded = co_await services_.jobs.find(job->id);
    if (!reloaded || !*reloaded) {
      // The store is unreachable or the job expired: keep the stream, or end it.
      if (reloaded) {
        break;
      }
      alive = co_await current.send_chunk(": store unavailable\n\n");
      continue;
    }
    job_record next = std::move(**reloaded);
    std::string text;
    if (is_terminal(next.status)) {
      text = event("end", next);
    } else if (next.status != job->status) {
      text = event("status", next);
    } else if (next.counts.rows_processed != job->counts.rows_processed ||
               next.counts.rows_total != job->counts.rows_total) {
      text = event("progress", next);
    } else if (!woken) {
      text = ": keepalive\n\n";
    }
    job = std::move(next);
    if (!text.empty()) {
      alive = co_await current.send_chunk(text);
    }
  }
  co_await current.finish_stream();
}

asio::awaitable<void> router::get_errors(exchange& current, std::string_view id) {
  const auto target = current.target();
  std::int64_t limit = default_page_size;
  std::int64_t offset = 0;
  if (auto text = query_parameter(target, "limit")) {
    const auto value = to_integer(*text);
    if (!value || *value < 1 || *value > max_page_size) {
      current.respond_problem(
          problem{problem_kind::invalid_request,
                  "limit must be a whole number from 1 to " + std::to_string(max_page_size) + "."}
              .with("field", "limit")
              .with("value", *text));
      co_return;
    }
    limit = *value;
  }
  if (auto text = query_parameter(target, "offset")) {
    const auto value = to_integer(*text);
    if (!value || *value < 0 || *value > max_error_offset) {
      current.respond_problem(problem{
          problem_kind::invalid_request,
          "offset must be a whole number from 0 to " + std::to_string(max_error_offset) + "."}
                                  .with("field", "offset")
                                  .with("value", *text));
      co_return;
    }
    offset = *value;
  }
  // ?format= wins over Accept. The CSV report ignores limit and offset.
  bool csv_report = false;
  if (auto text = query_parameter(target, "format")) {
    if (*text != "csv" && *text != "json") {
      current.respond_problem(problem{problem_kind::invalid_request, "format must be json or csv."}
                                  .with("field", "format")
                                  .with("value", *text));
      co_return;
    }
    csv_report = *text == "csv";
  } else {
    static constexpr std::array<std::string_view, 2> offered = {"application/json", "text/csv"};
    const auto accept = current.request()[http::field::accept];
    csv_report = choose_media_type(accept, offered) == "text/csv";
  }

  auto job = co_await load_job(current, id, job_kind::imports);
  if (!job) {
    co_return;
  }
  header_list headers;
  headers.emplace_back("Vary", "Accept");
  if (!is_terminal(job->status)) {
    headers.emplace_back("Retry-After", std::string(poll_interval_seconds));
  }
  if (csv_report) {
    co_await send_error_report(current, services_.jobs, *job, headers);
    co_return;
  }
  auto page = co_await services_.jobs.errors(job->id, offset, limit);
  if (!page) {
    current.logger().warn("job store read failed",
                          {{"job_id", job->id}, {"error", page.error().message()}});
    current.respond_problem(store_unavailable(), retry_after("2"));
    co_return;
  }

  // Entries are JSON objects written by the worker; they are copied into the array as they are.
  std::string body = R"({"jobId":")" + job->id + R"(","total":)" + std::to_string(page->total) +
                     R"(,"offset":)" + std::to_string(offset) + R"(,"limit":)" +
                     std::to_string(limit) + R"(,"results":[)";
  for (std::size_t i = 0; i < page->entries.size(); ++i) {
    body += i == 0 ? "" : ",";
    body += page->entries[i];
  }
  body += "]";
  const std::int64_t next = offset + static_cast<std::int64_t>(page->entries.size());
  if (next < page->total) {
    body += R"(,"links":{"next":")" + base_url(current) + job_path(*job) +
            "/errors?offset=" + std::to_string(next) + "&limit=" + std::to_string(limit) + "\"}";
  }
  body += "}";
  current.respond_json(http::status::ok, std::move(body), std::move(headers));
}

asio::awaitable<void> router::get_result(exchange& current, std::string_view id, job_kind kind) {
  auto job = co_await load_job(current, id, kind, true);
  if (!job) {
    co_return;
  }
  if (job->status != job_status::done) {
    header_list headers;
    if (!is_terminal(job->status)) {
      headers.emplace_back("Retry-After", std::string(poll_interval_seconds));
    }
    // A FAILED or CANCELED job never gets a result; a running one will.
    const auto kind =
        is_terminal(job->status) ? problem_kind::no_result : problem_kind::result_not_ready;
    current.respond_problem(problem{kind, "The job is " + std::string(to_string(job->status)) +
                                              "; a result exists only once it is DONE."}
                                .with("jobId", job->id)
                                .with("jobStatus", std::string(to_string(job->status))),
                            std::move(headers));
    co_return;
  }

  rapidjson::StringBuffer buffer;
  json::writer out(buffer);
  out.StartObject();
  json::write_string(out, "jobId", job->id);
  json::write_string(out, "status", to_string(job->status));
  if (kind == job_kind::exports) {
    const std::int64_t expires =
        download_link_expiry(now_millis() / 1000, services_.config.download_link_ttl_seconds);
    json::write_string(out, "format", job->result_format);
    out.Key("rows");
    out.Int64(job->counts.rows_processed);
    out.Key("bytes");
    out.Int64(job->result_bytes);
    json::write_string(out, "url",
                       base_url(current) + signer_.make_path(job->id, job->tenant, expires));
    json::write_string(out, "urlExpiresAt", format_timestamp(expires * 1000));
  } else {
    out.Key("counts");
    out.StartObject();
    out.Key("rowsRead");
    out.Int64(job->counts.rows_processed);
    out.Key("created");
    out.Int64(job->counts.created);
    out.Key("updated");
    out.Int64(job->counts.updated);
    out.Key("failed");
    out.Int64(job->counts.failed);
    out.Key("skippedBlank");
    out.Int64(job->counts.skipped_blank);
    out.EndObject();
    json::write_string(out, "errors", base_url(current) + job_path(*job) + "/errors");
  }
  out.EndObject();
  std::string body(buffer.GetString(), buffer.GetSize());

  const std::string etag = make_strong_etag(body);
  header_list headers = one_header(http::field::etag, etag);
  headers.emplace_back("Cache-Control", "private, no-store");
  const auto if_none_match = current.request()[http::field::if_none_match];
  if (!if_none_match.empty() && if_none_match_matches(if_none_match, etag)) {
    current.respond(http::status::not_modified, std::string(), std::string_view(),
                    std::move(headers));
    co_return;
  }
  current.respond_json(http::status::ok, std::move(body), std::move(headers));
}

asio::awaitable<void> router::cancel(exchange& current, std::string_view id, job_kind kind) {
  auto job = co_await load_job(current, id, kind);
  if (!job) {
    co_return;
  }
  const std::int64_t retention_ms = services_.config.job_retention_hours * 3600 * 1000;
  auto outcome = co_await services_.jobs.cancel(job->id, retention_ms);
  if (!outcome) {
    current.logger().warn("job cancel failed",
                          {{"job_id", job->id}, {"error", outcome.error().message()}});
    current.respond_problem(store_unavailable(), retry_after("2"));
    co_return;
  }
  if (!outcome->canceled) {
    current.respond_problem(
        problem{problem_kind::job_not_cancelable,
                "The job is already " + std::string(to_string(outcome->status)) + "."}
            .with("jobId", job->id)
            .with("jobStatus", std::string(to_string(outcome->status))));
    co_return;
  }
  current.logger().info("job canceled", {{"job_id", job->id}});
  auto reloaded = co_await services_.jobs.find(job->id);
  if (reloaded && *reloaded) {
    job = std::move(**reloaded);
  } else {
    job->status = job_status::canceled;
  }
  // The worker that reads the job's message emits the same event again, with the same id, so a
  // failure here delays the event of a PENDING job instead of losing it.
  const std::string event =
      to_json(make_job_event(job->id, job->tenant, job->kind, job_status::canceled,
                             outcome->previous, job->attempts, now_millis()));
  if (const auto error =
          co_await services_.queue.publish_event(job->id, event, current.trace().header())) {
    current.logger().warn("cancel event produce failed",
                          {{"job_id", job->id}, {"error", error.message()}});
  }
  current.respond_json(http::status::accepted, job_json(*job, base_url(current)));
}

asio::awaitable<void> router::download(exchange& current, std::string_view id) {
  const auto target = current.target();
  const auto tenant = query_parameter(target, "tenant").value_or("");
  const auto expires = query_parameter(target, "expires").value_or("");
  const auto signature = query_parameter(target, "signature").value_or("");
  const auto verdict = signer_.check(id, tenant, expires, signature, now_millis() / 1000);
  if (verdict == download_link_signer::verdict::invalid) {
    current.logger().warn("download link rejected", {{"job_id", std::string(id)}});
    current.respond_problem(problem{problem_kind::invalid_download_link,
                                    "The link's signature does not match. Request a new link "
                                    "from the job's result resource."});
    co_return;
  }
  if (verdict == download_link_signer::verdict::expired) {
    current.respond_problem(problem{problem_kind::download_link_expired,
                                    "The link expired. Request a new link from the job's result "
                                    "resource."});
    co_return;
  }
  current.set_tenant(tenant);
  auto job = co_await load_job(current, id, job_kind::exports, true);
  if (!job) {
    co_return;
  }
  const auto path = services_.blobs.local_path(job->result_key);
  if (job->status != job_status::done || !path) {
    current.respond_problem(problem{problem_kind::result_expired, "The job has no result file."});
    co_return;
  }
  const bool ndjson = job->result_format == "ndjson";
  download_file file;
  file.path = *path;
  file.content_type = ndjson ? "application/x-ndjson" : "text/csv; charset=utf-8";
  file.file_name = job->id + (ndjson ? ".ndjson" : ".csv");
  file.job_id = job->id;
  file.finished_at = job->finished_at;
  // The signature check passed, so expires is a valid number of seconds.
  file.max_age_seconds = to_integer(expires).value_or(0) - now_millis() / 1000;
  respond_download(current, file);
}

asio::awaitable<std::optional<std::string>> router::read_json_body(exchange& current,
                                                                   std::string_view what) {
  const auto content_type = current.request()[http::field::content_type];
  if (!has_media_type(content_type, "application/json")) {
    current.respond_problem(problem{problem_kind::unsupported_media_type,
                                    std::string(what) + " is sent as application/json."}
                                .with("contentType", std::string(content_type)));
    co_return std::nullopt;
  }
  co_return co_await read_limited_body(current,
                                       static_cast<std::uint64_t>(services_.config.max_json_bytes));
}

asio::awaitable<void> router::create_export(exchange& current) {
  if (auto bad_key = check_idempotency_key(current)) {
    current.respond_problem(*bad_key);
    co_return;
  }
  auto body = co_await read_json_body(current, "An export request");
  if (!body) {
    co_return;
  }
  auto custom = co_await load_custom_properties(current);
  if (!custom) {
    co_return;
  }
  auto catalog = tenant_catalog(current, *custom);
  if (!catalog) {
    co_return;
  }
  auto request = validate_request(*body, services_.export_schema, *catalog, job_kind::exports,
                                  "export request");
  if (!request) {
    current.respond_problem(request.error());
    co_return;
  }

  job_record job;
  job.id = job_id::generate(job_kind::exports).str();
  job.tenant = current.tenant();
  job.kind = job_kind::exports;
  job.name = std::string(json::get_string(*request, "name").value_or(""));
  job.object_type = std::string(json::get_string(*request, "objectType").value_or(""));
  job.result_format = std::string(json::get_string(*request, "format").value_or("csv"));
  job.created_at = job.updated_at = now_millis();
  job.request_json = json::serialize(*request);
  if (!co_await take_callback_url(current, *request, job, "/callbackUrl")) {
    co_return;
  }
  std::string message = job_message(job, *request, (*custom)[job.object_type]);
  std::string fingerprint = request_fingerprint(current, job_kind::exports, *request, "");
  const quota_request quota{daily_quota::exports, 1};
  co_await submit(current, std::move(job), std::move(message), std::move(fingerprint), quota);
}

asio::awaitable<void> router::create_import(exchange& current) {
  if (auto bad_key = check_idempotency_key(current)) {
    current.respond_problem(*bad_key);
    co_return;
  }
  const auto content_type = current.request()[http::field::content_type];
  const auto boundary = multipart_boundary(content_type);
  if (!boundary) {
    current.respond_problem(
        problem{problem_kind::unsupported_media_type,
                "An import is sent as multipart/form-data with a boundary, with the parts "
                "importRequest (JSON) and files (CSV)."}
            .with("contentType", std::string(content_type)));
    co_return;
  }
  const tenants::tenant_limits& limits = current.limits();
  if (auto too_large = check_upload_size(limits, current.content_length().value_or(0))) {
    current.respond_problem(*too_large);
    co_return;
  }

  bool dry_run = false;
  if (auto text = query_parameter(current.target(), "dryRun")) {
    if (*text != "true" && *text != "false") {
      current.respond_problem(
          problem{problem_kind::invalid_request, "dryRun must be true or false."}
              .with("field", "dryRun")
              .with("value", *text));
      co_return;
    }
    dry_run = *text == "true";
  }

  const auto id = job_id::generate(job_kind::imports);
  const std::string blob_key = blob_keys::import_upload(current.tenant(), id.str());
  const auto max_json = static_cast<std::size_t>(services_.config.max_json_bytes);
  import_upload upload = dry_run ? import_upload::preview(services_.blobs, max_json, dry_run_bytes)
                                 : import_upload(services_.blobs, blob_key, max_json);
  upload.limit_rows(static_cast<std::uint64_t>(limits.max_rows_per_file));
  multipart_parser parser(*boundary, upload);
  std::error_code parse_error;
  const std::function<boost::system::error_code(std::string_view)> feed_parser =
      [&](std::string_view piece) {
        parse_error = parser.feed(piece);
        return parse_error ? boost::system::error_code(ECANCELED, boost::system::generic_category())
                           : boost::system::error_code{};
      };
  auto error = co_await current.read_body_pieces(
      static_cast<std::uint64_t>(limits.max_upload_bytes), feed_parser);
  if (!error) {
    parse_error = parser.finish();
  }
  if (error || parse_error) {
    if (upload.failure()) {
      if (upload.failure()->kind == problem_kind::internal_error) {
        current.logger().error("upload could not be stored", {{"blob_key", blob_key}});
      } else if (upload.failure()->kind == problem_kind::too_many_rows) {
        current.logger().info("import rejected: too many rows",
                              {{"max_rows_per_file", limits.max_rows_per_file}});
      }
      current.respond_problem(*upload.failure());
    } else if (parse_error) {
      current.respond_problem(
          problem{problem_kind::invalid_multipart,
                  "The multipart body is malformed: " + parse_error.message() + "."});
    } else {
      respond_body_error(current, error, upload_too_large(limits));
    }
    co_return;
  }

  if (!upload.has_request() || !upload.has_file()) {
    const std::string missing = upload.has_request() ? "files" : "importRequest";
    current.respond_problem(
        problem{problem_kind::missing_part, "The body lacks the part '" + missing + "'."}.with(
            "part", missing));
    co_return;
  }
  auto custom = co_await load_custom_properties(current);
  if (!custom) {
    co_return;
  }
  auto catalog = tenant_catalog(current, *custom);
  if (!catalog) {
    co_return;
  }
  auto request = validate_request(upload.request_json(), services_.import_schema, *catalog,
                                  job_kind::imports, "importRequest part");
  if (!request) {
    current.respond_problem(request.error());
    co_return;
  }
  job_record job;
  if (!co_await take_callback_url(current, *request, job, "/callbackUrl")) {
    co_return;
  }
  if (dry_run) {
    current.respond_json(http::status::ok,
                         preview_import(*catalog, *request, upload.file_start(),
                                        upload.whole_file_kept(), dry_run_rows),
                         one_header(http::field::cache_control, "no-store"));
    co_return;
  }
  if (auto committed = upload.commit(); !committed) {
    current.logger().error("upload could not be stored",
                           {{"blob_key", blob_key}, {"error", committed.error().message()}});
    current.respond_problem(
        problem{problem_kind::internal_error, "The upload could not be stored."});
    co_return;
  }

  job.id = id.str();
  job.tenant = current.tenant();
  job.kind = job_kind::imports;
  job.name = std::string(json::get_string(*request, "name").value_or(upload.filename()));
  job.object_type = std::string(json::get_string(*request, "objectType").value_or(""));
  job.created_at = job.updated_at = now_millis();
  job.request_json = json::serialize(*request);
  job.blob_key = blob_key;

  // The rows counted during the upload stand unless the request's delimiter or encoding differs
  // from the options counted with. Then the stored file is read once more.
  auto parsed = records::import_request::from_json(*request);
  const records::import_options options = parsed ? parsed->options : records::import_options{};
  std::optional<std::uint64_t> rows = upload.counted_records(options);
  if (!rows) {
    auto counted = records::count_stored_records(services_.blobs, blob_key, options);
    if (!counted) {
      current.logger().error("upload could not be read to count its rows",
                             {{"blob_key", blob_key}, {"error", counted.error().message()}});
      (void)services_.blobs.remove(blob_key);
      current.respond_problem(
          problem{problem_kind::internal_error, "The upload could not be read."});
      co_return;
    }
    rows = *counted;
  }
  if (auto too_many = check_rows_per_file(limits, *rows)) {
    current.logger().info("import rejected: too many rows",
                          {{"rows", *rows}, {"max_rows_per_file", limits.max_rows_per_file}});
    (void)services_.blobs.remove(blob_key);
    current.respond_problem(*too_many);
    co_return;
  }
  job.counts.rows_total = static_cast<std::int64_t>(*rows);

  std::string message = job_message(job, *request, (*custom)[job.object_type]);
  current.logger().info("import uploaded",
                        {{"job_id", job.id}, {"bytes", upload.file_bytes()}, {"rows", *rows}});
  std::string fingerprint =
      request_fingerprint(current, job_kind::imports, *request, upload.file_digest());
  const quota_request quota{daily_quota::rows, job.counts.rows_total};
  co_await submit(current, std::move(job), std::move(message), std::move(fingerprint), quota);
}

asio::awaitable<bool> router::take_callback_url(exchange& current, const json::document& request,
                                                job_record& job, std::string field) {
  const auto url = json::get_string(request, "callbackUrl");
  if (!url) {
    co_return true;
  }
  auto bad = co_await webhooks_.check_callback_url(current.tenant(), std::string(*url), field);
  if (bad) {
    if (bad->kind == problem_kind::service_unavailable) {
      current.respond_problem(*bad, retry_after("2"));
    } else {
      current.respond_problem(*bad);
    }
    co_return false;
  }
  job.callback_url = std::string(*url);
  co_return true;
}

asio::awaitable<void> router::submit(exchange& current, job_record job, std::string message,
                                     std::string fingerprint, quota_request quota) {
  job.traceparent = current.trace().header();
  const auto cleanup_blob = [&] {
    if (!job.blob_key.empty()) {
      (void)services_.blobs.remove(job.blob_key);
    }
  };

  // With an Idempotency-Key, the first request claims the key; a retry gets the stored response.
  const std::string key_digest =
      fingerprint.empty() ? std::string{}
                          : crypto::sha256_hex(current.request()[idempotency_key_header]);
  if (!key_digest.empty()) {
    auto claim = co_await services_.jobs.claim_idempotency_key(job.tenant, key_digest, fingerprint,
                                                               idempotency_claim_ms);
    if (!claim) {
      current.logger().warn("idempotency key could not be claimed",
                            {{"error", claim.error().message()}});
      cleanup_blob();
      current.respond_problem(store_unavailable(), retry_after("2"));
      co_return;
    }
    if (claim->outcome != idempotency_claim::verdict::claimed) {
      cleanup_blob();
      respond_to_claimed_key(current, *claim);
      co_return;
    }
  }

  // The daily quota counts after the key claim, so a replayed request never counts twice. From
  // here on, a failure gives the count back.
  std::optional<quota_usage> counted;
  const tenants::tenant_limits& limits = current.limits();
  const std::int64_t quota_limit = daily_limit(limits, quota.quota);
  if (quota_limit > 0 && quota.amount > 0) {
    auto usage = co_await services_.quotas.take(job.tenant, quota, quota_limit);
    if (!usage || !usage->allowed) {
      cleanup_blob();
      if (!key_digest.empty()) {
        co_await release_idempotency_key(current, job.tenant, key_digest, fingerprint);
      }
    }
    if (!usage) {
      current.logger().warn("daily quota check failed", {{"error", usage.error().message()}});
      current.respond_problem(store_unavailable(), retry_after("2"));
      co_return;
    }
    if (!usage->allowed) {
      current.logger().info(
          "submission rejected: daily quota used up",
          {{"quota", to_string(quota.quota)}, {"used", usage->used}, {"requested", quota.amount}});
      current.respond_problem(daily_quota_exceeded(limits, quota, *usage),
                              retry_after(std::to_string(usage->reset_in_seconds)));
      co_return;
    }
    counted = std::move(*usage);
  }

  job.message = message;
  auto created = co_await services_.jobs.create(job);
  if (!created || !*created) {
    current.logger().warn(
        "job could not be stored",
        {{"job_id", job.id},
         {"error", created ? std::string("id exists") : created.error().message()}});
    cleanup_blob();
    if (!key_digest.empty()) {
      co_await release_idempotency_key(current, job.tenant, key_digest, fingerprint);
    }
    co_await give_back_quota(services_.quotas, current.logger(), job.tenant, quota, counted);
    current.respond_problem(store_unavailable(), retry_after("2"));
    co_return;
  }

  // The response is 202 only once the broker acknowledged the message. Otherwise the record is
  // removed, so no job stays PENDING without a message behind it.
  // TODO: a delivery timeout that librdkafka reports as possibly persisted can still reach a
  // worker, so such a job should stay recorded for the sweeper and get 202, not 503.
  const std::error_code error = co_await services_.queue.publish(job, std::move(message));
  if (error) {
    auto removed = co_await services_.jobs.remove(job);
    if (!removed) {
      current.logger().warn("job record of an unqueued job could not be removed",
                            {{"job_id", job.id}, {"error", removed.error().message()}});
    }
    cleanup_blob();
    if (!key_digest.empty()) {
      co_await release_idempotency_key(current, job.tenant, key_digest, fingerprint);
    }
    co_await give_back_quota(services_.quotas, current.logger(), job.tenant, quota, counted);
    if (error == kafka::kafka_errc::too_large) {
      current.logger().warn("job message too large",
                            {{"job_id", job.id}, {"error", error.message()}});
      current.respond_problem(problem{
          problem_kind::payload_too_large,
          "The job message is larger than the broker's message.max.bytes allows; send a smaller "
          "request."});
    } else if (error == kafka::kafka_errc::retryable || error == kafka::producer_fatal_error()) {
      // After a fatal producer error the queue replaces its producer, so a retry goes through.
      current.logger().warn("job could not be queued",
                            {{"job_id", job.id}, {"error", error.message()}});
      current.respond_problem(
          problem{
              problem_kind::service_unavailable,
              "The job queue is unavailable. Retry after the number of seconds in Retry-After."},
          retry_after("5"));
    } else {
      current.logger().error("job could not be queued",
                             {{"job_id", job.id}, {"error", error.message()}});
      current.respond_problem(
          problem{problem_kind::internal_error, "The job could not be queued."});
    }
    co_return;
  }

  // Without this mark a worker produces the message again after a grace period; a duplicate
  // message is harmless, so the response does not wait for it.
  services_.jobs.mark_queued(job);
  current.logger().info("job accepted", {{"job_id", job.id}, {"kind", to_string(job.kind)}});
  metrics_.record_submission(job.kind);
  idempotency_claim accepted;
  accepted.status = static_cast<int>(http::status::accepted);
  accepted.body = job_json(job, base_url(current));
  accepted.location = base_url(current) + job_path(job);
  if (!key_digest.empty()) {
    const std::int64_t lifetime_ms = services_.config.idempotency_hours * 3600 * 1000;
    auto stored = co_await services_.jobs.complete_idempotency_key(
        job.tenant, key_digest, fingerprint, accepted, lifetime_ms);
    if (!stored) {
      // The job is queued; only a retry with the key would miss the stored response.
      current.logger().warn("idempotency key response could not be stored",
                            {{"job_id", job.id}, {"error", stored.error().message()}});
    }
  }
  respond_accepted(current, accepted, false);
}

asio::awaitable<void> router::release_idempotency_key(exchange& current, const std::string& tenant,
                                                      const std::string& key_digest,
                                                      const std::string& fingerprint) {
  auto released = co_await services_.jobs.release_idempotency_key(tenant, key_digest, fingerprint);
  if (!released) {
    current.logger().warn("idempotency key could not be released",
                          {{"error", released.error().message()}});
  }
}

void router::respond_accepted(exchange& current, const idempotency_claim& response,
                              bool replayed) const {
  header_list headers;
  if (!response.location.empty()) {
    headers.emplace_back("Location", response.location);
    headers.emplace_back("Operation-Location", response.location);
    headers.emplace_back("Retry-After", std::string(poll_interval_seconds));
  }
  if (replayed) {
    headers.emplace_back("Idempotent-Replayed", "true");
  }
  current.respond_json(static_cast<http::status>(response.status), response.body,
                       std::move(headers));
}

void router::respond_to_claimed_key(exchange& current, const idempotency_claim& claim) const {
  switch (claim.outcome) {
    case idempotency_claim::verdict::replay:
      current.logger().info("idempotent request replayed");
      respond_accepted(current, claim, true);
      break;
    case idempotency_claim::verdict::in_flight:
      current.respond_problem(
          problem{problem_kind::idempotency_key_in_use,
                  "Another request with this Idempotency-Key is being processed. Retry after the "
                  "number of seconds in Retry-After to get its response."},
          retry_after("1"));
      break;
    case idempotency_claim::verdict::mismatch:
    case idempotency_claim::verdict::claimed:
      current.respond_problem(problem{problem_kind::idempotency_key_reused,
                                      "This Idempotency-Key was sent before with a different "
                                      "request. Use a new key for a new request."}
                                  .with("field", std::string(idempotency_key_header)));
      break;
  }
}

}  // namespace jobgate::gateway
