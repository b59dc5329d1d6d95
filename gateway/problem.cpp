#include "gateway/problem.hpp"

#include "common/json/json.hpp"

namespace jobgate::gateway {

namespace http = boost::beast::http;

problem_info describe(problem_kind kind) {
  switch (kind) {
    case problem_kind::invalid_json:
      return {http::status::bad_request, "invalid-json", "The request body is not valid JSON"};
    case problem_kind::invalid_request:
      return {http::status::bad_request, "invalid-request",
              "The request does not match its schema"};
    case problem_kind::unknown_property:
      return {http::status::bad_request, "unknown-property",
              "The request names a property the object type does not have"};
    case problem_kind::invalid_multipart:
      return {http::status::bad_request, "invalid-multipart",
              "The multipart/form-data body is malformed"};
    case problem_kind::missing_part:
      return {http::status::bad_request, "missing-part",
              "The multipart/form-data body lacks a required part"};
    case problem_kind::unauthorized:
      return {http::status::unauthorized, "unauthorized", "Missing or invalid API key"};
    case problem_kind::not_found:
      return {http::status::not_found, "not-found", "No such resource"};
    case problem_kind::record_not_found:
      return {http::status::not_found, "record-not-found", "No record with this id"};
    case problem_kind::job_not_found:
      return {http::status::not_found, "job-not-found", "No such job"};
    case problem_kind::method_not_allowed:
      return {http::status::method_not_allowed, "method-not-allowed",
              "The resource does not support this method"};
    case problem_kind::result_not_ready:
      return {http::status::conflict, "result-not-ready", "The job has no result yet"};
    case problem_kind::no_result:
      return {http::status::conflict, "no-result", "The job ended without a result"};
    case problem_kind::job_not_cancelable:
      return {http::status::conflict, "job-not-cancelable",
              "The job already reached a final state"};
    case problem_kind::idempotency_key_in_use:
      return {http::status::conflict, "idempotency-key-in-use",
              "A request with this Idempotency-Key is still in progress"};
    case problem_kind::property_exists:
      return {http::status::conflict, "property-exists",
              "The object type already has a property of this name"};
    case problem_kind::idempotency_key_reused:
      return {http::status::unprocessable_entity, "idempotency-key-reused",
              "The Idempotency-Key was used with a different request"};
    case problem_kind::webhook_not_found:
      return {http::status::not_found, "webhook-not-found", "No such webhook subscription"};
    case problem_kind::delivery_not_found:
      return {http::status::not_found, "delivery-not-found", "No such webhook delivery"};
    case problem_kind::invalid_webhook_url:
      return {http::status::unprocessable_entity, "invalid-webhook-url",
              "The webhook URL is not valid"};
    case problem_kind::webhook_target_refused:
      return {http::status::unprocessable_entity, "webhook-target-refused",
              "The webhook URL's host is not reachable for webhooks"};
    case problem_kind::webhook_limit_reached:
      return {http::status::conflict, "webhook-limit-reached",
              "The tenant has the maximum number of webhook subscriptions"};
    case problem_kind::webhook_disabled:
      return {http::status::conflict, "webhook-disabled", "The webhook subscription is disabled"};
    case problem_kind::delivery_pending:
      return {http::status::conflict, "delivery-pending",
              "The delivery is still pending, so it cannot be sent again yet"};
    case problem_kind::callback_secret_missing:
      return {http::status::conflict, "callback-secret-missing",
              "The tenant has no callback secret"};
    case problem_kind::invalid_download_link:
      return {http::status::forbidden, "invalid-download-link", "The download link is not valid"};
    case problem_kind::download_link_expired:
      return {http::status::gone, "download-link-expired", "The download link expired"};
    case problem_kind::result_expired:
      return {http::status::gone, "result-expired", "The job's result was removed"};
    case problem_kind::payload_too_large:
      return {http::status::payload_too_large, "payload-too-large",
              "The request body is larger than allowed"};
    case problem_kind::upload_too_large:
      return {http::status::payload_too_large, "upload-too-large",
              "The upload is larger than the tenant's max-upload-bytes"};
    case problem_kind::too_many_rows:
      return {http::status::payload_too_large, "too-many-rows",
              "The file has more data rows than the tenant's max-rows-per-file"};
    case problem_kind::header_too_large:
      return {http::status::request_header_fields_too_large, "header-too-large",
              "The request header is larger than allowed"};
    case problem_kind::request_timeout:
      return {http::status::request_timeout, "request-timeout",
              "The request was not received in time"};
    case problem_kind::unsupported_media_type:
      return {http::status::unsupported_media_type, "unsupported-media-type",
              "The request body has an unsupported content type"};
    case problem_kind::rate_limited:
      return {http::status::too_many_requests, "rate-limited",
              "The API key sent more requests than its rate limit allows"};
    case problem_kind::daily_quota_exceeded:
      return {http::status::too_many_requests, "daily-quota-exceeded",
              "The tenant used up a daily quota"};
    case problem_kind::service_unavailable:
      return {http::status::service_unavailable, "service-unavailable",
              "A backing service is unavailable; retry later"};
    case problem_kind::internal_error:
      return {http::status::internal_server_error, "internal-error",
              "The server failed to handle the request"};
  }
  return {http::status::internal_server_error, "internal-error",
          "The server failed to handle the request"};
}

std::string problem_body(const problem& error, std::string_view instance) {
  const problem_info info = describe(error.kind);
  rapidjson::StringBuffer buffer;
  json::writer out(buffer);
  out.StartObject();
  json::write_string(out, "type", std::string(problem_type_base) + std::string(info.slug));
  json::write_string(out, "title", info.title);
  out.Key("status");
  out.Int(static_cast<int>(info.status));
  if (!error.detail.empty()) {
    json::write_string(out, "detail", error.detail);
  }
  if (!instance.empty()) {
    json::write_string(out, "instance", instance);
  }
  const std::string* field = nullptr;
  const std::string* value = nullptr;
  for (const auto& [name, text] : error.extra) {
    json::write_string(out, name, text);
    field = name == "field" ? &text : field;
    value = name == "value" ? &text : value;
  }
  // Clients that collect validation errors read them from one list, as in many JSON APIs.
  if (field != nullptr) {
    out.Key("invalidFields");
    out.StartArray();
    out.StartObject();
    json::write_string(out, "field", *field);
    json::write_string(out, "detail", error.detail.empty() ? info.title : error.detail);
    if (value != nullptr) {
      json::write_string(out, "value", *value);
    }
    out.EndObject();
    out.EndArray();
  }
  out.EndObject();
  return std::string(buffer.GetString(), buffer.GetSize());
}

}  // namespace jobgate::gateway
