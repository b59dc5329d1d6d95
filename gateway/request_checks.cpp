#include "gateway/request_checks.hpp"

#include <algorithm>
#include <boost/beast/core/string.hpp>
#include <boost/url/parse.hpp>

#include "common/records/record_filter.hpp"

namespace jobgate::gateway {

std::optional<std::string> query_parameter(std::string_view target, std::string_view name) {
  // Most targets carry no query, which this finds without parsing the target.
  if (target.find('?') == std::string_view::npos) {
    return std::nullopt;
  }
  auto parsed = boost::urls::parse_origin_form(target);
  if (!parsed) {
    return std::nullopt;
  }
  for (const auto& param : parsed->params()) {
    if (param.key == name && param.has_value) {
      return std::string(param.value);
    }
  }
  return std::nullopt;
}

bool has_media_type(std::string_view content_type, std::string_view expected) {
  std::string_view type = content_type.substr(0, content_type.find(';'));
  while (!type.empty() && (type.back() == ' ' || type.back() == '\t')) {
    type.remove_suffix(1);
  }
  return boost::beast::iequals(type, expected);
}

header_list one_header(http::field name, std::string value) {
  header_list headers;
  headers.emplace_back(std::string(http::to_string(name)), std::move(value));
  return headers;
}

problem method_not_allowed(std::string_view allowed) {
  return {problem_kind::method_not_allowed,
          "This resource supports " + std::string(allowed) + ".",
          {{"allowed", std::string(allowed)}}};
}

std::optional<problem> check_properties(const records::property_catalog& catalog,
                                        const json::document& request, job_kind kind) {
  const auto object_type = json::get_string(request, "objectType").value_or("");
  const auto* object = catalog.find_object_type(object_type);
  if (object == nullptr) {
    return problem{
        problem_kind::invalid_request, "Unknown objectType.", {{"field", "/objectType"}}};
  }
  const auto unknown = [&](std::string_view name, std::string_view pointer) {
    return problem{problem_kind::unknown_property,
                   "The object type " + std::string(object_type) + " has no property '" +
                       std::string(name) + "'.",
                   {{"field", std::string(pointer)}, {"value", std::string(name)}}};
  };

  if (kind == job_kind::imports) {
    if (const auto* mappings = json::get_array(request, "columnMappings")) {
      std::vector<std::string_view> seen;
      for (rapidjson::SizeType i = 0; i < mappings->Size(); ++i) {
        const auto name = json::get_string((*mappings)[i], "propertyName").value_or("");
        const std::string pointer = "/columnMappings/" + std::to_string(i) + "/propertyName";
        if (object->find_property(name) == nullptr) {
          return unknown(name, pointer);
        }
        if (std::find(seen.begin(), seen.end(), name) != seen.end()) {
          return problem{problem_kind::invalid_request,
                         "Two column mappings name the property '" + std::string(name) + "'.",
                         {{"field", pointer}, {"value", std::string(name)}}};
        }
        seen.push_back(name);
      }
    }
    if (const auto* options = json::get_object(request, "options")) {
      if (const auto dedupe = json::get_string(*options, "dedupeBy")) {
        if (*dedupe != object->unique_property) {
          return problem{problem_kind::invalid_request,
                         "dedupeBy must be the unique property of " + std::string(object_type) +
                             ", which is '" + std::string(object->unique_property) + "'.",
                         {{"field", "/options/dedupeBy"}, {"value", std::string(*dedupe)}}};
        }
      }
    }
    return std::nullopt;
  }

  if (const auto* properties = json::get_array(request, "properties")) {
    for (rapidjson::SizeType i = 0; i < properties->Size(); ++i) {
      const auto& item = (*properties)[i];
      const std::string_view name(item.GetString(), item.GetStringLength());
      if (object->find_property(name) == nullptr) {
        return unknown(name, "/properties/" + std::to_string(i));
      }
    }
  }
  if (const auto* filters = json::get_array(request, "filters")) {
    for (rapidjson::SizeType i = 0; i < filters->Size(); ++i) {
      const auto& filter = (*filters)[i];
      const auto name = json::get_string(filter, "propertyName").value_or("");
      const auto* property = object->find_property(name);
      if (property == nullptr) {
        return unknown(name, "/filters/" + std::to_string(i) + "/propertyName");
      }
      auto built = records::record_filter::from_json(filter, *property);
      if (!built) {
        const auto& error = built.error();
        std::string pointer = "/filters/" + std::to_string(i);
        if (!error.member.empty()) {
          pointer += "/" + error.member;
        }
        problem bad{problem_kind::invalid_request, error.message, {{"field", pointer}}};
        if (error.value) {
          bad.extra.emplace_back("value", *error.value);
        }
        return bad;
      }
    }
  }
  return std::nullopt;
}

void respond_body_error(exchange& current, const boost::system::error_code& error,
                        const problem& too_large) {
  if (error == http::error::body_limit) {
    current.respond_problem(too_large);
  } else {
    current.logger().info("request body read failed", {{"error", error.message()}});
    current.respond_problem(problem{problem_kind::invalid_request,
                                    "The request body is malformed: " + error.message() + "."});
  }
}

boost::asio::awaitable<std::optional<std::string>> read_limited_body(exchange& current,
                                                                     std::uint64_t max_bytes) {
  const problem too_large{problem_kind::payload_too_large,
                          "The body is larger than " + std::to_string(max_bytes) + " bytes."};
  if (current.content_length().value_or(0) > max_bytes) {
    current.respond_problem(too_large);
    co_return std::nullopt;
  }
  auto body = co_await current.read_body(max_bytes);
  if (!body) {
    respond_body_error(current, body.error(), too_large);
    co_return std::nullopt;
  }
  co_return std::move(*body);
}

boost::system::result<json::document, problem> validate_request(
    std::string_view body, const json::schema_validator& schema,
    const records::property_catalog& catalog, job_kind kind, std::string_view what) {
  auto parsed = json::parse(body);
  if (!parsed) {
    return problem{problem_kind::invalid_json,
                   "The " + std::string(what) + " is not valid JSON: " + parsed.error().message +
                       " at byte offset " + std::to_string(parsed.error().offset) + ".",
                   {{"offset", std::to_string(parsed.error().offset)}}};
  }
  if (auto valid = schema.validate(*parsed); !valid) {
    return problem{problem_kind::invalid_request,
                   "The " + std::string(what) + " is invalid: " + valid.error().message + ".",
                   {{"field", valid.error().pointer}, {"keyword", valid.error().keyword}}};
  }
  if (auto bad = check_properties(catalog, *parsed, kind)) {
    return *bad;
  }
  return std::move(*parsed);
}

path_segments split_path(std::string_view path) {
  path_segments segments;
  while (!path.empty()) {
    if (path.front() == '/') {
      path.remove_prefix(1);
      continue;
    }
    const auto slash = path.find('/');
    segments.push_back(path.substr(0, slash));
    path = slash == std::string_view::npos ? std::string_view{} : path.substr(slash);
  }
  return segments;
}

}  // namespace jobgate::gateway
