#pragma once

#include <string>
#include <string_view>

#include "common/jobs/job_event.hpp"

namespace jobgate::worker {

// The webhook body for an event (proto/schemas/webhook-payload.schema.json). Links start with
// public_url, the gateway's base URL without a trailing slash.
std::string webhook_payload(const job_event& event, std::string_view public_url);

}  // namespace jobgate::worker
