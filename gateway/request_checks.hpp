#pragma once

#include <boost/container/small_vector.hpp>
#include <boost/system/error_code.hpp>
#include <boost/system/result.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/jobs/job.hpp"
#include "common/json/json.hpp"
#include "common/json/schema_validator.hpp"
#include "common/records/property_catalog.hpp"
#include "gateway/exchange.hpp"
#include "gateway/problem.hpp"

namespace jobgate::gateway {

// Returns the decoded value of the first query parameter `name` of an origin-form request target,
// or nullopt when the target is malformed or has no such parameter with a value.
std::optional<std::string> query_parameter(std::string_view target, std::string_view name);

// The segments of a request path, stored inline up to 8, more than the deepest route has.
using path_segments = boost::container::small_vector<std::string_view, 8>;

// The segments of a path without its empty ones: "/v1//jobs/" gives {"v1", "jobs"}.
path_segments split_path(std::string_view path);

// Compares the media type of a Content-Type value with `expected`, ignoring case and parameters.
bool has_media_type(std::string_view content_type, std::string_view expected);

// Builds a header list of one header.
header_list one_header(http::field name, std::string value);

// The 405 problem for a resource that supports only the methods in `allowed`, e.g. "GET, POST".
problem method_not_allowed(std::string_view allowed);

// Checks the parts of a request that its JSON Schema cannot: property names against the catalog,
// filter operators against their values, and dedupe settings.
std::optional<problem> check_properties(const records::property_catalog& catalog,
                                        const json::document& request, job_kind kind);

// Records the response to a failed body read: 413 over the limit, 400 for a malformed body. A
// connection that broke gets no response at all.
void respond_body_error(exchange& current, const boost::system::error_code& error,
                        const problem& too_large);

// Reads the whole request body, or records the error response and returns nullopt. A body over
// max_bytes, by its Content-Length or while it is read, gets a 413; other read failures go to
// respond_body_error.
boost::asio::awaitable<std::optional<std::string>> read_limited_body(exchange& current,
                                                                     std::uint64_t max_bytes);

// Parses and validates a JSON request body, or returns the problem to respond with.
boost::system::result<json::document, problem> validate_request(
    std::string_view body, const json::schema_validator& schema,
    const records::property_catalog& catalog, job_kind kind, std::string_view what);

}  // namespace jobgate::gateway
