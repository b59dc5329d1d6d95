#include "cli/command_session.hpp"

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <fstream>

#include "cli/job_follower.hpp"

namespace jobgate::cli {

namespace {

boost::system::result<json::document, command_error> parse_json_body(
    const http_response& response) {
  auto parsed = json::parse(response.body);
  if (!parsed || !parsed->IsObject()) {
    return command_error{"jobgate: the gateway returned HTTP " + std::to_string(response.status) +
                         " with a body that is not a JSON object\n"};
  }
  return std::move(*parsed);
}

}  // namespace

std::string encode_query_value(std::string_view text) {
  static constexpr char hex[] = "0123456789ABCDEF";
  std::string encoded;
  for (const unsigned char c : text) {
    if (std::isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~') {
      encoded += static_cast<char>(c);
    } else {
      encoded += '%';
      encoded += hex[c >> 4];
      encoded += hex[c & 0xF];
    }
  }
  return encoded;
}

bool is_valid_job_id(std::string_view id) {
  return !id.empty() && id.size() <= 128 && std::all_of(id.begin(), id.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-';
  });
}

boost::system::result<std::pair<http_response, json::document>, command_error> fetch_json(
    http_client& client, http_request request, unsigned expected_status) {
  request.fields.emplace_back("Accept", "application/json");
  auto response = client.send(request);
  if (!response) {
    return command_error{"jobgate: " + response.error().message + "\n"};
  }
  if (response->status != expected_status) {
    return problem_error(*response);
  }
  auto document = parse_json_body(*response);
  if (!document) {
    return document.error();
  }
  return std::pair{std::move(*response), std::move(*document)};
}

boost::system::result<std::uint64_t, command_error> download_to_file(http_client& client,
                                                                     const http_request& request,
                                                                     const std::string& path) {
  const std::string partial = path + ".part";
  std::ofstream file(partial, std::ios::binary | std::ios::trunc);
  if (!file) {
    return command_error{"jobgate: cannot write " + partial + "\n"};
  }
  std::uint64_t written = 0;
  auto response = client.send(request, [&](std::string_view bytes) {
    file.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    written += bytes.size();
    return static_cast<bool>(file);
  });
  file.close();
  const auto fail = [&](command_error error) {
    std::error_code ignored;
    std::filesystem::remove(partial, ignored);
    return error;
  };
  if (!response) {
    return fail({"jobgate: " + response.error().message + "\n"});
  }
  if (response->status < 200 || response->status >= 300) {
    return fail(problem_error(*response));
  }
  if (!file) {
    return fail({"jobgate: writing " + partial + " failed\n"});
  }
  std::error_code error;
  std::filesystem::rename(partial, path, error);
  if (error) {
    return fail(
        {"jobgate: renaming " + partial + " to " + path + " failed: " + error.message() + "\n"});
  }
  return written;
}

}  // namespace jobgate::cli
