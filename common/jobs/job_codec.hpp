#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/jobs/job.hpp"
#include "common/json/json.hpp"
#include "common/kafka/kafka_message.hpp"

namespace jobgate {

using field_list = std::vector<std::pair<std::string, std::string>>;

// The Redis hash fields of a new job, in the order HSET takes them.
field_list to_hash_fields(const job_record& job);

// Rebuilds a job from the flat field/value array of HGETALL. Returns false when the hash lacks the
// fields every job has (id, tenant, kind, status).
bool from_hash_fields(const std::vector<std::string_view>& flat, job_record& job);

// Writes the public JSON resource of a job; links are built on base_url ("http://host:port").
void write_job_resource(json::writer& out, const job_record& job, std::string_view base_url);

// The path of a job's resource, e.g. "/v1/imports/imp_...".
std::string job_path(const job_record& job);

// The Kafka headers of a job's queue message: the tenant, the content type, and the job's
// traceparent when it has one.
kafka::kafka_headers job_message_headers(const std::string& tenant, const std::string& traceparent);

}  // namespace jobgate
