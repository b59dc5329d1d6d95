#pragma once

#include <boost/system/error_code.hpp>
#include <boost/system/result.hpp>
#include <optional>
#include <string_view>

#include "common/jobs/job.hpp"
#include "common/json/json.hpp"
#include "common/json/schema_validator.hpp"
#include "common/records/property_catalog.hpp"
#include "gateway/exchange.hpp"
#include "gateway/problem.hpp"

namespace jobgate::gateway {

// Checks the parts of a request that its JSON Schema cannot: property names against the catalog,
// filter operators against their values, and dedupe settings.
std::optional<problem> check_properties(const records::property_catalog& catalog,
                                        const json::document& request, job_kind kind);

// Records the response to a failed body read: 413 over the limit, 400 for a malformed body. A
// connection that broke gets no response at all.
void respond_body_error(exchange& current, const boost::system::error_code& error,
                        const problem& too_large);

// Parses and validates a JSON request body, or returns the problem to respond with.
boost::system::result<json::document, problem> validate_request(
    std::string_view body, const json::schema_validator& schema,
    const records::property_catalog& catalog, job_kind kind, std::string_view what);

}  // namespace jobgate::gateway
