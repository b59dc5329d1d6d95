#include "gateway/gateway_metrics.hpp"

#include <array>
#include <vector>

#include "common/metrics/client_counters.hpp"
#include "gateway/request_checks.hpp"

namespace jobgate::gateway {

namespace {

// Path segments that name an action or a fixed resource rather than an id.
constexpr std::array fixed_segments = {
    std::string_view("cancel"),        std::string_view("result"),
    std::string_view("errors"),        std::string_view("events"),
    std::string_view("deliveries"),    std::string_view("redeliver"),
    std::string_view("rotate-secret"), std::string_view("callback-secret"),
    std::string_view("callbacks"),     std::string_view("records"),
    std::string_view("contacts"),      std::string_view("companies")};

constexpr std::array v1_collections = {
    std::string_view("imports"), std::string_view("exports"),    std::string_view("jobs"),
    std::string_view("objects"), std::string_view("properties"), std::string_view("downloads"),
    std::string_view("webhooks")};

template <std::size_t N>
bool listed(const std::array<std::string_view, N>& words, std::string_view word) {
  for (const auto candidate : words) {
    if (candidate == word) {
      return true;
    }
  }
  return false;
}

}  // namespace

std::string route_template(std::string_view path) {
  const auto segments = split_path(path.substr(0, path.find('?')));
  if (segments.size() == 1 && (segments[0] == "healthz" || segments[0] == "readyz" ||
                               segments[0] == "metrics" || segments[0] == "openapi.yaml")) {
    return "/" + std::string(segments[0]);
  }
  if (segments.size() == 2 && segments[0] == "schemas") {
    return "/schemas/{name}";
  }
  if (!segments.empty() && segments[0] == "ui") {
    return "/ui";
  }
  constexpr std::size_t max_segments = 6;
  if (segments.size() < 2 || segments.size() > max_segments || segments[0] != "v1" ||
      !listed(v1_collections, segments[1])) {
    return "other";
  }
  std::string route = "/v1/" + std::string(segments[1]);
  for (std::size_t i = 2; i < segments.size(); ++i) {
    route += listed(fixed_segments, segments[i]) ? "/" + std::string(segments[i]) : "/{id}";
  }
  return route;
}

gateway_metrics::gateway_metrics()
    : requests_(registry_.add_counter("jobgate_http_requests_total",
                                      "HTTP requests served, by route template, method and status.",
                                      {"route", "method", "status"})),
      request_seconds_(registry_.add_histogram(
          "jobgate_http_request_duration_seconds",
          "Time from a request's header to its response's last byte, by route template.",
          {"route", "method"}, metrics::latency_bounds())),
      submitted_(registry_.add_counter("jobgate_jobs_submitted_total",
                                       "Jobs accepted with 202, by kind.", {"kind"})),
      rate_limited_(registry_.add_counter(
          "jobgate_rate_limited_requests_total",
          "Requests answered 429 because their API key was over a rate limit, by tenant and "
          "limit (submit or read).",
          {"tenant", "limit"})) {
  registry_.add_collector(metrics::write_client_counters);
  // Both kinds start at 0, so rate() and increase() count the first job after a restart too.
  for (const auto kind : {job_kind::imports, job_kind::exports}) {
    submitted_.with({std::string(to_string(kind))});
  }
}

void gateway_metrics::record_request(std::string_view method, std::string_view path,
                                     boost::beast::http::status status,
                                     std::chrono::nanoseconds elapsed) {
  const std::string route = route_template(path);
  // Any token is a valid HTTP method, so others share one label value.
  constexpr std::array known_methods = {std::string_view("GET"),    std::string_view("HEAD"),
                                        std::string_view("POST"),   std::string_view("PUT"),
                                        std::string_view("PATCH"),  std::string_view("DELETE"),
                                        std::string_view("OPTIONS")};
  const std::string_view verb = listed(known_methods, method) ? method : "other";
  const auto status_code = std::to_string(static_cast<int>(status));
  // The key's buffer is kept, so looking up a known series allocates no key.
  thread_local std::string key;
  key.assign(route).append(" ").append(verb).append(" ").append(status_code);

  request_series series{};
  {
    const std::lock_guard lock(request_series_mutex_);
    const auto found = request_series_.find(key);
    if (found != request_series_.end()) {
      series = found->second;
    } else {
      series = {&requests_.with({route, std::string(verb), status_code}),
                &request_seconds_.with({route, std::string(verb)})};
      request_series_.emplace(key, series);
    }
  }
  series.requests->increment();
  series.seconds->observe(std::chrono::duration<double>(elapsed).count());
}

std::string gateway_metrics::render(
    const boost::system::result<std::map<job_kind, job_kind_totals>>& totals) const {
  metrics::exposition out;
  out.begin_family("jobgate_job_totals_up",
                   "1 when this scrape read the job totals from Redis, else 0.", "gauge");
  out.sample("jobgate_job_totals_up", {}, totals ? 1 : 0);
  if (totals) {
    // Every kind gets a sample, so a kind without active jobs reads 0 instead of no data.
    const auto totals_of = [&totals](job_kind kind) {
      const auto found = totals->find(kind);
      return found == totals->end() ? job_kind_totals{} : found->second;
    };
    const auto write_gauge = [&](std::string_view name, std::string_view help, auto field,
                                 std::initializer_list<job_kind> kinds) {
      out.begin_family(name, help, "gauge");
      for (const auto kind : kinds) {
        out.sample(name, {{"kind", std::string(to_string(kind))}},
                   static_cast<double>(field(totals_of(kind))));
      }
    };
    write_gauge("jobgate_jobs_pending",
                "Jobs accepted and not started, across tenants, by kind. Every gateway replica "
                "reports the same Redis-wide value.",
                [](const job_kind_totals& kind) { return kind.pending; },
                {job_kind::imports, job_kind::exports});
    write_gauge("jobgate_jobs_running",
                "Jobs in PROCESSING, across tenants, by kind. Every gateway replica reports the "
                "same Redis-wide value.",
                [](const job_kind_totals& kind) { return kind.processing; },
                {job_kind::imports, job_kind::exports});
    // Only imports count their rows before they run; an export's row count is known at its end.
    write_gauge("jobgate_rows_remaining",
                "Rows of pending and running imports not applied yet, counting the imports whose "
                "row count is known.",
                [](const job_kind_totals& kind) { return kind.rows_remaining; },
                {job_kind::imports});
    // Named apart from jobgate_worker_slots and jobgate_worker_busy_slots, which each worker
    // reports for itself, so a query over all jobgate_worker_* series never counts a slot twice.
    write_gauge("jobgate_fleet_workers",
                "Worker processes whose slot report is live, by the kind they serve. Every gateway "
                "replica reports the same Redis-wide value.",
                [](const job_kind_totals& kind) { return kind.fleet.workers; },
                {job_kind::imports, job_kind::exports});
    write_gauge("jobgate_fleet_slots",
                "Processing slots of the live worker processes, by kind. Every gateway replica "
                "reports the same Redis-wide value.",
                [](const job_kind_totals& kind) { return kind.fleet.slots; },
                {job_kind::imports, job_kind::exports});
    write_gauge("jobgate_fleet_busy_slots",
                "Processing slots of the live worker processes that run a job, by kind, as of "
                "each worker's last report. Every gateway replica reports the same Redis-wide "
                "value.",
                [](const job_kind_totals& kind) { return kind.fleet.busy; },
                {job_kind::imports, job_kind::exports});
    out.begin_family("jobgate_jobs_deferred",
                     "Jobs that wait because their tenant runs as many jobs of the kind as its "
                     "cap allows, by kind and tenant; tenants with none have no sample.",
                     "gauge");
    for (const auto& [kind, kind_totals] : *totals) {
      for (const auto& [tenant, count] : kind_totals.deferred) {
        out.sample("jobgate_jobs_deferred",
                   {{"kind", std::string(to_string(kind))}, {"tenant", tenant}},
                   static_cast<double>(count));
      }
    }
  }
  return registry_.render() + out.text();
}

void gateway_metrics::record_submission(job_kind kind) {
  submitted_.with({std::string(to_string(kind))}).increment();
}

void gateway_metrics::record_rate_limited(const std::string& tenant, limit_kind kind) {
  rate_limited_.with({tenant, std::string(to_string(kind))}).increment();
}

void gateway_metrics::start_rate_limited_series(const std::vector<std::string>& tenants) {
  for (const auto& tenant : tenants) {
    for (const auto kind : {limit_kind::submit, limit_kind::read}) {
      rate_limited_.with({tenant, std::string(to_string(kind))});
    }
  }
}

}  // namespace jobgate::gateway
