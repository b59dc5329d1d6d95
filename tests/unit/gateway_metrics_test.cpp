#include "gateway/gateway_metrics.hpp"

#include <catch2/catch.hpp>
#include <chrono>
#include <string>

using jobgate::gateway::route_template;

TEST_CASE("route template replaces ids", "[metrics][gateway]") {
  CHECK(route_template("/v1/imports") == "/v1/imports");
  CHECK(route_template("/v1/imports/imp_0f3c/errors?limit=2") == "/v1/imports/{id}/errors");
  CHECK(route_template("/v1/jobs/exp_1/cancel") == "/v1/jobs/{id}/cancel");
  CHECK(route_template("/v1/webhooks/callback-secret") == "/v1/webhooks/callback-secret");
  CHECK(route_template("/v1/webhooks/whk_1/deliveries/whd_2/redeliver") ==
        "/v1/webhooks/{id}/deliveries/{id}/redeliver");
  CHECK(route_template("/v1/objects/contacts/records/42") == "/v1/objects/contacts/records/{id}");
  CHECK(route_template("/schemas/import-request.schema.json") == "/schemas/{name}");
  CHECK(route_template("/metrics") == "/metrics");
  CHECK(route_template("/ui/pages/overview.js") == "/ui");
  CHECK(route_template("/ui") == "/ui");
}

TEST_CASE("route template bounds unknown paths", "[metrics][gateway]") {
  CHECK(route_template("/") == "other");
  CHECK(route_template("/wp-admin/setup.php") == "other");
  CHECK(route_template("/v1/unknown/1") == "other");
  CHECK(route_template("/v1/jobs/1/2/3/4/5/6") == "other");
}

TEST_CASE("gateway metrics count requests", "[metrics][gateway]") {
  jobgate::gateway::gateway_metrics metrics;
  metrics.record_request("POST", "/v1/exports", boost::beast::http::status::accepted,
                         std::chrono::milliseconds(3));
  metrics.record_request("BREW", "/v1/exports/exp_1", boost::beast::http::status::not_found,
                         std::chrono::milliseconds(1));
  metrics.record_submission(jobgate::job_kind::exports);
  const std::string text = metrics.render();
  CHECK(text.find("jobgate_http_requests_total{route=\"/v1/exports\",method=\"POST\","
                  "status=\"202\"} 1\n") != std::string::npos);
  CHECK(text.find("jobgate_http_requests_total{route=\"/v1/exports/{id}\",method=\"other\","
                  "status=\"404\"} 1\n") != std::string::npos);
  CHECK(text.find("jobgate_http_request_duration_seconds_bucket{route=\"/v1/exports\","
                  "method=\"POST\",le=\"0.005\"} 1\n") != std::string::npos);
  CHECK(text.find("jobgate_jobs_submitted_total{kind=\"exports\"} 1\n") != std::string::npos);
  // A kind without submissions is there at 0 from the start.
  CHECK(text.find("jobgate_jobs_submitted_total{kind=\"imports\"} 0\n") != std::string::npos);
  CHECK(text.find("jobgate_redis_errors_total ") != std::string::npos);
}
