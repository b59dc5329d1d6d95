#include "cli/job_follower.hpp"

#include <algorithm>
#include <thread>

#include "cli/job_text.hpp"
#include "cli/problem_text.hpp"
#include "cli/sse_parser.hpp"

namespace jobgate::cli {

namespace {

constexpr unsigned default_poll_seconds = 2;
constexpr unsigned max_poll_seconds = 30;

enum class stream_outcome { finished, closed, unavailable };

// Reads one event stream. `job` receives the latest job resource.
boost::system::result<stream_outcome, command_error> read_stream(http_client& client,
                                                                 const std::string& job_id,
                                                                 progress_display& display,
                                                                 json::document& job) {
  sse_parser parser;
  bool got_event = false;
  bool finished = false;
  const body_sink sink = [&](std::string_view bytes) {
    for (const auto& event : parser.feed(bytes)) {
      auto parsed = json::parse(event.data);
      if (!parsed || !parsed->IsObject()) {
        continue;
      }
      got_event = true;
      job = std::move(*parsed);
      display.show_job(job);
      if (event.type == "end" || is_terminal_status(json::get_string(job, "status").value_or(""))) {
        finished = true;
        return false;
      }
    }
    return true;
  };

  http_request request;
  request.target = "/v1/jobs/" + job_id + "/events";
  request.fields = {{"Accept", "text/event-stream"}};
  auto response = client.send(request, sink);
  if (finished) {
    return stream_outcome::finished;
  }
  if (!response) {
    return got_event ? stream_outcome::closed : stream_outcome::unavailable;
  }
  // A 404 or 401 is about the job or the key, so polling would only repeat it.
  if (response->status >= 400 && response->status < 500) {
    return problem_error(*response);
  }
  if (response->status != 200) {
    return stream_outcome::unavailable;
  }
  return got_event ? stream_outcome::closed : stream_outcome::unavailable;
}

boost::system::result<json::document, command_error> poll_job(http_client& client,
                                                              const std::string& job_id,
                                                              progress_display& display) {
  http_request request;
  request.target = "/v1/jobs/" + job_id;
  request.fields = {{"Accept", "application/json"}};
  for (;;) {
    auto response = client.send(request);
    if (!response) {
      return command_error{"jobgate: " + response.error().message + "\n"};
    }
    if (response->status != 200) {
      return problem_error(*response);
    }
    auto job = json::parse(response->body);
    if (!job || !job->IsObject()) {
      return command_error{"jobgate: the gateway returned a job that is not a JSON object\n"};
    }
    display.show_job(*job);
    if (is_terminal_status(json::get_string(*job, "status").value_or(""))) {
      return std::move(*job);
    }
    const unsigned seconds =
        std::min(response->retry_after.value_or(default_poll_seconds), max_poll_seconds);
    std::this_thread::sleep_for(std::chrono::seconds(std::max(seconds, 1u)));
  }
}

}  // namespace

command_error problem_error(const http_response& response) {
  return command_error{render_problem(response.status, response.body)};
}

boost::system::result<json::document, command_error> follow_job(http_client& client,
                                                                const std::string& job_id,
                                                                progress_display& display) {
  json::document job;
  for (;;) {
    auto outcome = read_stream(client, job_id, display, job);
    if (!outcome) {
      return outcome.error();
    }
    if (*outcome == stream_outcome::finished) {
      return job;
    }
    if (*outcome == stream_outcome::unavailable) {
      return poll_job(client, job_id, display);
    }
    // The gateway closes a stream after 30 minutes; a new one starts with the current state. The
    // pause keeps a gateway that drops every stream early from being asked in a tight loop.
    std::this_thread::sleep_for(std::chrono::seconds(1));
  }
}

}  // namespace jobgate::cli
