#include <catch2/catch.hpp>
#include <set>
#include <string>
#include <tuple>
#include <vector>

#include "common/json/json.hpp"
#include "gateway/problem.hpp"

namespace {

using jobgate::gateway::problem;
using jobgate::gateway::problem_kind;
namespace http = boost::beast::http;

struct expected_problem {
  problem_kind kind;
  http::status status;
  std::string_view slug;
};

// One row per enumerator in declaration order, which ends with internal_error.
const std::vector<expected_problem> every_problem = {
    {problem_kind::invalid_json, http::status::bad_request, "invalid-json"},
    {problem_kind::invalid_request, http::status::bad_request, "invalid-request"},
    {problem_kind::unknown_property, http::status::bad_request, "unknown-property"},
    {problem_kind::invalid_multipart, http::status::bad_request, "invalid-multipart"},
    {problem_kind::missing_part, http::status::bad_request, "missing-part"},
    {problem_kind::unauthorized, http::status::unauthorized, "unauthorized"},
    {problem_kind::not_found, http::status::not_found, "not-found"},
    {problem_kind::job_not_found, http::status::not_found, "job-not-found"},
    {problem_kind::record_not_found, http::status::not_found, "record-not-found"},
    {problem_kind::method_not_allowed, http::status::method_not_allowed, "method-not-allowed"},
    {problem_kind::result_not_ready, http::status::conflict, "result-not-ready"},
    {problem_kind::no_result, http::status::conflict, "no-result"},
    {problem_kind::job_not_cancelable, http::status::conflict, "job-not-cancelable"},
    {problem_kind::idempotency_key_in_use, http::status::conflict, "idempotency-key-in-use"},
    {problem_kind::property_exists, http::status::conflict, "property-exists"},
    {problem_kind::idempotency_key_reused, http::status::unprocessable_entity,
     "idempotency-key-reused"},
    {problem_kind::webhook_not_found, http::status::not_found, "webhook-not-found"},
    {problem_kind::delivery_not_found, http::status::not_found, "delivery-not-found"},
    {problem_kind::invalid_webhook_url, http::status::unprocessable_entity, "invalid-webhook-url"},
    {problem_kind::webhook_target_refused, http::status::unprocessable_entity,
     "webhook-target-refused"},
    {problem_kind::webhook_limit_reached, http::status::conflict, "webhook-limit-reached"},
    {problem_kind::webhook_disabled, http::status::conflict, "webhook-disabled"},
    {problem_kind::delivery_pending, http::status::conflict, "delivery-pending"},
    {problem_kind::callback_secret_missing, http::status::conflict, "callback-secret-missing"},
    {problem_kind::invalid_download_link, http::status::forbidden, "invalid-download-link"},
    {problem_kind::download_link_expired, http::status::gone, "download-link-expired"},
    {problem_kind::result_expired, http::status::gone, "result-expired"},
    {problem_kind::payload_too_large, http::status::payload_too_large, "payload-too-large"},
    {problem_kind::upload_too_large, http::status::payload_too_large, "upload-too-large"},
    {problem_kind::too_many_rows, http::status::payload_too_large, "too-many-rows"},
    {problem_kind::header_too_large, http::status::request_header_fields_too_large,
     "header-too-large"},
    {problem_kind::request_timeout, http::status::request_timeout, "request-timeout"},
    {problem_kind::unsupported_media_type, http::status::unsupported_media_type,
     "unsupported-media-type"},
    {problem_kind::rate_limited, http::status::too_many_requests, "rate-limited"},
    {problem_kind::daily_quota_exceeded, http::status::too_many_requests, "daily-quota-exceeded"},
    {problem_kind::service_unavailable, http::status::service_unavailable, "service-unavailable"},
    {problem_kind::internal_error, http::status::internal_server_error, "internal-error"},
};

}  // namespace

TEST_CASE("problem table covers every kind", "[gateway][problem]") {
  // The enumerators are contiguous from 0, so the table must have one row per value up to the last.
  REQUIRE(every_problem.size() == static_cast<std::size_t>(problem_kind::internal_error) + 1);
  for (std::size_t i = 0; i < every_problem.size(); ++i) {
    CHECK(static_cast<std::size_t>(every_problem[i].kind) == i);
  }
}

TEST_CASE("problem status slug and title", "[gateway][problem]") {
  std::set<std::string_view> slugs;
  std::set<std::string_view> titles;
  for (const auto& expected : every_problem) {
    const auto info = jobgate::gateway::describe(expected.kind);
    INFO("slug " << expected.slug);
    CHECK(info.status == expected.status);
    CHECK(info.slug == expected.slug);
    CHECK_FALSE(info.title.empty());
    CHECK(slugs.insert(info.slug).second);
    CHECK(titles.insert(info.title).second);
  }
}

TEST_CASE("problem unknown kind is internal", "[gateway][problem]") {
  const auto info = jobgate::gateway::describe(static_cast<problem_kind>(999));
  CHECK(info.status == http::status::internal_server_error);
  CHECK(info.slug == "internal-error");
}

TEST_CASE("problem body members", "[gateway][problem]") {
  for (const auto& expected : every_problem) {
    const problem error = problem{expected.kind, "Something \"quoted\" failed."}
                              .with("field", "/objectType")
                              .with("value", "bad\nvalue");
    const std::string body = jobgate::gateway::problem_body(error, "/v1/imports");
    INFO("body " << body);
    auto parsed = jobgate::json::parse(body);
    REQUIRE(parsed.has_value());
    const auto& document = *parsed;
    REQUIRE(document.IsObject());
    CHECK(jobgate::json::get_string(document, "type") ==
          "https://jobgate.dev/problems/" + std::string(expected.slug));
    CHECK(jobgate::json::get_string(document, "title") ==
          jobgate::gateway::describe(expected.kind).title);
    CHECK(jobgate::json::get_int(document, "status") == static_cast<int>(expected.status));
    CHECK(jobgate::json::get_string(document, "detail") == "Something \"quoted\" failed.");
    CHECK(jobgate::json::get_string(document, "instance") == "/v1/imports");
    CHECK(jobgate::json::get_string(document, "field") == "/objectType");
    CHECK(jobgate::json::get_string(document, "value") == "bad\nvalue");
    const auto* invalid = jobgate::json::get_array(document, "invalidFields");
    REQUIRE(invalid != nullptr);
    REQUIRE(invalid->Size() == 1);
    CHECK(jobgate::json::get_string((*invalid)[0], "field") == "/objectType");
    CHECK(jobgate::json::get_string((*invalid)[0], "detail") == "Something \"quoted\" failed.");
    CHECK(jobgate::json::get_string((*invalid)[0], "value") == "bad\nvalue");
    CHECK(document.MemberCount() == 8);
  }
}

TEST_CASE("problem body omits empty members", "[gateway][problem]") {
  const std::string body = jobgate::gateway::problem_body(problem{problem_kind::not_found, ""}, "");
  auto parsed = jobgate::json::parse(body);
  REQUIRE(parsed.has_value());
  CHECK(parsed->MemberCount() == 3);
  CHECK_FALSE(parsed->HasMember("detail"));
  CHECK_FALSE(parsed->HasMember("instance"));
}

TEST_CASE("problem with keeps order", "[gateway][problem]") {
  const problem error =
      problem{problem_kind::missing_part, "d"}.with("part", "files").with("maxBytes", "10");
  REQUIRE(error.extra.size() == 2);
  CHECK(error.extra[0] == std::pair<std::string, std::string>{"part", "files"});
  CHECK(error.extra[1] == std::pair<std::string, std::string>{"maxBytes", "10"});
}
