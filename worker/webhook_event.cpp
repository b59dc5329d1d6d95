#include "worker/webhook_event.hpp"

#include <rapidjson/stringbuffer.h>

#include "common/json/json.hpp"

namespace jobgate::worker {

std::string webhook_payload(const job_event& event, std::string_view public_url) {
  const std::string self = std::string(public_url) + "/v1/" + event.kind + "/" + event.job_id;
  rapidjson::StringBuffer buffer;
  json::writer out(buffer);
  out.StartObject();
  json::write_string(out, "type", event.type);
  json::write_string(out, "timestamp", event.occurred_at);
  out.Key("data");
  out.StartObject();
  json::write_string(out, "eventId", event.event_id);
  json::write_string(out, "jobId", event.job_id);
  json::write_string(out, "kind", event.kind);
  json::write_string(out, "status", event.status);
  if (!event.previous_status.empty()) {
    json::write_string(out, "previousStatus", event.previous_status);
  }
  out.Key("sequence");
  out.Int64(event.sequence);
  out.Key("links");
  out.StartObject();
  json::write_string(out, "self", self);
  if (event.status == "DONE") {
    json::write_string(out, "result", self + "/result");
  }
  if (event.kind == "imports" && (event.status == "DONE" || event.status == "FAILED")) {
    json::write_string(out, "errors", self + "/errors");
  }
  out.EndObject();
  out.EndObject();
  out.EndObject();
  return std::string(buffer.GetString(), buffer.GetSize());
}

}  // namespace jobgate::worker
