#include "gateway/router.hpp"

#include <openssl/crypto.h>

#include <algorithm>
#include <boost/url/parse.hpp>
#include <charconv>

#include "common/jobs/job_codec.hpp"
#include "common/kafka/kafka_error.hpp"
#include "gateway/import_upload.hpp"
#include "gateway/request_checks.hpp"
#include "proto/proto_files.hpp"

namespace jobgate::gateway {

namespace asio = boost::asio;

namespace {

// Seconds a client should wait before polling a job that is not finished.
constexpr std::string_view poll_interval_seconds = "2";
constexpr std::int64_t default_page_size = 100;
constexpr std::int64_t max_page_size = 1000;
// Far above any import's row count, and low enough that offset + limit cannot overflow.
constexpr std::int64_t max_error_offset = 1'000'000'000'000;

std::vector<std::string_view> split_path(std::string_view path) {
  std::vector<std::string_view> segments;
  while (!path.empty()) {
    if (path.front() == '/') {
      path.remove_prefix(1);
      continue;
    }
    const auto slash = path.find('/');
    segments.push_back(path.substr(0, slash));
    path = slash == std::string_view::npos ? std::string_view{} : path.substr(slash);
  }
  return segments;
}

std::optional<std::string> query_parameter(std::string_view target, std::string_view name) {
  auto parsed = boost::urls::parse_origin_form(target);
  if (!parsed) {
    return std::nullopt;
  }
  for (const auto& param : parsed->params()) {
    if (param.key == name && param.has_value) {
      return std::string(param.value);
    }
  }
  return std::nullopt;
}

// Compares the media type of a Content-Type value, ignoring case and parameters.
bool has_media_type(std::string_view content_type, std::string_view expected) {
  std::string_view type = content_type.substr(0, content_type.find(';'));
  while (!type.empty() && (type.back() == ' ' || type.back() == '\t')) {
    type.remove_suffix(1);
  }
  return boost::beast::iequals(type, expected);
}

std::optional<std::int64_t> to_integer(std::string_view text) {
  std::int64_t value = 0;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error != std::errc{} || end != text.data() + text.size()) {
    return std::nullopt;
  }
  return value;
}

problem store_unavailable() {
  return {problem_kind::service_unavailable,
          "The job store is unavailable. Retry after the number of seconds in Retry-After."};
}

header_list one_header(http::field name, std::string value) {
  header_list headers;
  headers.emplace_back(std::string(http::to_string(name)), std::move(value));
  return headers;
}

header_list retry_after(std::string_view seconds) {
  return one_header(http::field::retry_after, std::string(seconds));
}

problem method_not_allowed(std::string_view allowed) {
  return {problem_kind::method_not_allowed,
          "This resource supports " + std::string(allowed) + ".",
          {{"allowed", std::string(allowed)}}};
}

std::string job_json(const job_record& job, std::string_view base_url) {
  rapidjson::StringBuffer buffer;
  json::writer out(buffer);
  write_job_resource(out, job, base_url);
  return std::string(buffer.GetString(), buffer.GetSize());
}

std::string job_message(const job_record& job, const json::document& request) {
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
  out.EndObject();
  return std::string(buffer.GetString(), buffer.GetSize());
}

}  // namespace

router::router(gateway_services services)
    : services_(services), signer_(services.config.signing_secret) {}

std::string router::base_url(const exchange& current) const {
  if (!services_.config.public_url.empty()) {
    return services_.config.public_url;
  }
  const auto host = current.request()[http::field::host];
  return "http://" + std::string(host.empty() ? "localhost" : host);
}

bool router::authenticate(exchange& current) const {
  std::string_view key = current.request()["X-API-Key"];
  const std::string_view authorization = current.request()[http::field::authorization];
  if (key.empty() && authorization.size() > 7 &&
      boost::beast::iequals(authorization.substr(0, 7), "Bearer ")) {
    key = authorization.substr(7);
  }
  if (key.empty()) {
    return false;
  }
  // Every configured key is compared in constant time, so timing does not reveal a prefix match.
  const std::string* tenant = nullptr;
  for (const auto& [configured, owner] : services_.config.api_keys) {
    if (configured.size() == key.size() &&
        CRYPTO_memcmp(configured.data(), key.data(), key.size()) == 0) {
      tenant = &owner;
    }
  }
  if (tenant == nullptr) {
    return false;
  }
  current.set_tenant(*tenant);
  return true;
}

asio::awaitable<void> router::handle(exchange& current) {
  const std::string_view target = current.target();
  const std::string_view path = target.substr(0, target.find('?'));
  const auto segments = split_path(path);
  const auto method = current.request().method();
  const bool is_get = method == http::verb::get || method == http::verb::head;
  const bool is_post = method == http::verb::post;

  if (segments.size() == 1 &&
      (segments[0] == "healthz" || segments[0] == "readyz" || segments[0] == "openapi.yaml")) {
    if (!is_get) {
      current.respond_problem(method_not_allowed("GET"), one_header(http::field::allow, "GET"));
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

  if (!authenticate(current)) {
    current.logger().info("request rejected: missing or unknown API key");
    current.respond_problem(
        problem{problem_kind::unauthorized,
                "Send a valid API key as 'Authorization: Bearer KEY' or in the X-API-Key header."},
        one_header(http::field::www_authenticate, "Bearer"));
    co_return;
  }

  const auto collection = segments.size() >= 2 ? segments[1] : std::string_view{};
  const auto kind = parse_job_kind(collection);

  if (segments.size() == 2 && kind) {
    if (!is_post) {
      current.respond_problem(method_not_allowed("POST"), one_header(http::field::allow, "POST"));
    } else if (*kind == job_kind::imports) {
      co_await create_import(current);
    } else {
      co_await create_export(current);
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
  const bool reachable = co_await services_.jobs.ping();
  if (reachable) {
    current.respond_json(http::status::ok, R"({"status":"ready"})");
  } else {
    current.respond_problem(store_unavailable(), retry_after("5"));
  }
}

asio::awaitable<std::optional<job_record>> router::load_job(exchange& current, std::string_view id,
                                                            std::optional<job_kind> kind) {
  const auto parsed = job_id::parse(id);
  if (!parsed || (kind && parsed->kind() != kind)) {
    current.respond_problem(
        problem{problem_kind::job_not_found, "No job with id '" + std::string(id) + "'."}.with(
            "jobId", std::string(id)));
    co_return std::nullopt;
  }
  auto found = co_await services_.jobs.find(parsed->str());
  if (!found) {
    current.logger().warn("job store read failed",
                          {{"job_id", parsed->str()}, {"error", found.error().message()}});
    current.respond_problem(store_unavailable(), retry_after("2"));
    co_return std::nullopt;
  }
  // Another tenant's job gets the same 404 as a missing one, so ids reveal nothing.
  if (!*found || (*found)->tenant != current.tenant()) {
    current.respond_problem(
        problem{problem_kind::job_not_found, "No job with id '" + std::string(id) + "'."}.with(
            "jobId", std::string(id)));
    co_return std::nullopt;
  }
  co_return std::move(**found);
}

asio::awaitable<void> router::get_job(exchange& current, std::string_view id,
                                      std::optional<job_kind> kind) {
  auto job = co_await load_job(current, id, kind);
  if (!job) {
    co_return;
  }
  header_list headers;
  if (!is_terminal(job->status)) {
    headers.emplace_back("Retry-After", std::string(poll_interval_seconds));
  }
  headers.emplace_back("Cache-Control", "no-store");
  current.respond_json(http::status::ok, job_json(*job, base_url(current)), std::move(headers));
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

  auto job = co_await load_job(current, id, job_kind::imports);
  if (!job) {
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
  header_list headers;
  if (!is_terminal(job->status)) {
    headers.emplace_back("Retry-After", std::string(poll_interval_seconds));
  }
  current.respond_json(http::status::ok, std::move(body), std::move(headers));
}

asio::awaitable<void> router::get_result(exchange& current, std::string_view id, job_kind kind) {
  auto job = co_await load_job(current, id, kind);
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
    const std::int64_t expires = now_millis() / 1000 + services_.config.download_link_ttl_seconds;
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
  current.respond_json(http::status::ok, std::string(buffer.GetString(), buffer.GetSize()),
                       one_header(http::field::cache_control, "private, no-store"));
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
  auto job = co_await load_job(current, id, job_kind::exports);
  if (!job) {
    co_return;
  }
  const auto path = services_.blobs.local_path(job->result_key);
  if (job->status != job_status::done || !path) {
    current.respond_problem(problem{problem_kind::result_expired, "The job has no result file."});
    co_return;
  }
  const bool ndjson = job->result_format == "ndjson";
  current.respond_file(*path, ndjson ? "application/x-ndjson" : "text/csv; charset=utf-8",
                       job->id + (ndjson ? ".ndjson" : ".csv"));
}

asio::awaitable<void> router::create_export(exchange& current) {
  const auto content_type = current.request()[http::field::content_type];
  if (!has_media_type(content_type, "application/json")) {
    current.respond_problem(problem{problem_kind::unsupported_media_type,
                                    "An export request is sent as application/json."}
                                .with("contentType", std::string(content_type)));
    co_return;
  }
  const auto limit = static_cast<std::uint64_t>(services_.config.max_json_bytes);
  if (current.content_length().value_or(0) > limit) {
    current.respond_problem(
        problem{problem_kind::payload_too_large,
                "The body is larger than " + std::to_string(limit) + " bytes."});
    co_return;
  }
  auto body = co_await current.read_body(limit);
  if (!body) {
    respond_body_error(current, body.error(),
                       problem{problem_kind::payload_too_large,
                               "The body is larger than " + std::to_string(limit) + " bytes."});
    co_return;
  }
  auto request = validate_request(*body, services_.export_schema, services_.catalog,
                                  job_kind::exports, "export request");
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
  std::string message = job_message(job, *request);
  co_await submit(current, std::move(job), std::move(message));
}

asio::awaitable<void> router::create_import(exchange& current) {
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
  const auto limit = static_cast<std::uint64_t>(services_.config.max_upload_bytes);
  const auto too_large =
      problem{problem_kind::payload_too_large,
              "The upload is larger than the maximum of " + std::to_string(limit) + " bytes.",
              {{"maxBytes", std::to_string(limit)}}};
  if (current.content_length().value_or(0) > limit) {
    current.respond_problem(too_large);
    co_return;
  }

  const auto id = job_id::generate(job_kind::imports);
  const std::string blob_key = current.tenant() + "/imports/" + id.str() + ".csv";
  import_upload upload(services_.blobs, blob_key,
                       static_cast<std::size_t>(services_.config.max_json_bytes));
  multipart_parser parser(*boundary, upload);
  std::error_code parse_error;
  const std::function<boost::system::error_code(std::string_view)> feed_parser =
      [&](std::string_view piece) {
        parse_error = parser.feed(piece);
        return parse_error ? boost::system::error_code(ECANCELED, boost::system::generic_category())
                           : boost::system::error_code{};
      };
  auto error = co_await current.read_body_pieces(limit, feed_parser);
  if (!error) {
    parse_error = parser.finish();
  }
  if (error || parse_error) {
    if (upload.failure()) {
      if (upload.failure()->kind == problem_kind::internal_error) {
        current.logger().error("upload could not be stored", {{"blob_key", blob_key}});
      }
      current.respond_problem(*upload.failure());
    } else if (parse_error) {
      current.respond_problem(
          problem{problem_kind::invalid_multipart,
                  "The multipart body is malformed: " + parse_error.message() + "."});
    } else {
      respond_body_error(current, error, too_large);
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
  auto request = validate_request(upload.request_json(), services_.import_schema, services_.catalog,
                                  job_kind::imports, "importRequest part");
  if (!request) {
    current.respond_problem(request.error());
    co_return;
  }
  if (auto committed = upload.commit(); !committed) {
    current.logger().error("upload could not be stored",
                           {{"blob_key", blob_key}, {"error", committed.error().message()}});
    current.respond_problem(
        problem{problem_kind::internal_error, "The upload could not be stored."});
    co_return;
  }

  job_record job;
  job.id = id.str();
  job.tenant = current.tenant();
  job.kind = job_kind::imports;
  job.name = std::string(json::get_string(*request, "name").value_or(upload.filename()));
  job.object_type = std::string(json::get_string(*request, "objectType").value_or(""));
  job.created_at = job.updated_at = now_millis();
  job.request_json = json::serialize(*request);
  job.blob_key = blob_key;
  std::string message = job_message(job, *request);
  current.logger().info("import uploaded", {{"job_id", job.id}, {"bytes", upload.file_bytes()}});
  co_await submit(current, std::move(job), std::move(message));
}

asio::awaitable<void> router::submit(exchange& current, job_record job, std::string message) {
  const auto cleanup_blob = [&] {
    if (!job.blob_key.empty()) {
      (void)services_.blobs.remove(job.blob_key);
    }
  };

  auto created = co_await services_.jobs.create(job);
  if (!created || !*created) {
    current.logger().warn(
        "job could not be stored",
        {{"job_id", job.id},
         {"error", created ? std::string("id exists") : created.error().message()}});
    cleanup_blob();
    current.respond_problem(store_unavailable(), retry_after("2"));
    co_return;
  }

  // The response is 202 only once the broker acknowledged the message. Otherwise the record is
  // removed, so no job stays PENDING without a message behind it.
  const std::error_code error = co_await services_.queue.publish(job, std::move(message));
  if (error) {
    auto removed = co_await services_.jobs.remove(job);
    if (!removed) {
      current.logger().warn("job record of an unqueued job could not be removed",
                            {{"job_id", job.id}, {"error", removed.error().message()}});
    }
    cleanup_blob();
    if (error == kafka::kafka_errc::too_large) {
      current.logger().warn("job message too large",
                            {{"job_id", job.id}, {"error", error.message()}});
      current.respond_problem(problem{
          problem_kind::payload_too_large,
          "The job message is larger than the broker's message.max.bytes allows; send a smaller "
          "request."});
    } else if (error == kafka::kafka_errc::retryable) {
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

  current.logger().info("job accepted", {{"job_id", job.id}, {"kind", to_string(job.kind)}});
  const std::string location = base_url(current) + job_path(job);
  header_list headers = one_header(http::field::location, location);
  headers.emplace_back("Operation-Location", location);
  headers.emplace_back("Retry-After", std::string(poll_interval_seconds));
  current.respond_json(http::status::accepted, job_json(job, base_url(current)),
                       std::move(headers));
}

}  // namespace jobgate::gateway
