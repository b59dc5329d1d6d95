#include "gateway/download_response.hpp"

#include <algorithm>

#include "gateway/byte_range.hpp"
#include "gateway/entity_tag.hpp"

namespace jobgate::gateway {

namespace beast = boost::beast;

std::int64_t download_link_expiry(std::int64_t now_seconds, std::int64_t ttl_seconds) {
  const std::int64_t step = std::clamp<std::int64_t>(ttl_seconds / 10, 1, 60);
  const std::int64_t earliest = now_seconds + ttl_seconds;
  return (earliest + step - 1) / step * step;
}

void respond_download(exchange& current, const download_file& file) {
  beast::error_code error;
  beast::file body;
  body.open(file.path.c_str(), beast::file_mode::scan, error);
  std::uint64_t size = 0;
  if (!error) {
    size = body.size(error);
  }
  if (error) {
    current.logger().warn("result file cannot be opened",
                          {{"path", file.path.string()}, {"error", error.message()}});
    current.respond_problem(
        problem{problem_kind::result_expired, "The result file no longer exists."});
    return;
  }

  // The file of a DONE job never changes, so id, completion time and size identify its bytes.
  const std::string etag = make_strong_etag(file.job_id + "\n" + std::to_string(file.finished_at) +
                                            "\n" + std::to_string(size));
  header_list headers;
  headers.emplace_back("ETag", etag);
  headers.emplace_back("Cache-Control", "private, max-age=" + std::to_string(std::max<std::int64_t>(
                                                                  0, file.max_age_seconds)));
  headers.emplace_back("Accept-Ranges", "bytes");
  headers.emplace_back("Content-Disposition", "attachment; filename=\"" + file.file_name + "\"");

  const auto& request = current.request();
  const auto if_none_match = request[http::field::if_none_match];
  if (!if_none_match.empty() && if_none_match_matches(if_none_match, etag)) {
    current.respond(http::status::not_modified, std::string(), std::string_view(),
                    std::move(headers));
    return;
  }

  // Only GET defines range handling; HEAD describes the whole file.
  const auto range_header = request[http::field::range];
  const auto if_range = request[http::field::if_range];
  range_selection selection;
  if (request.method() == http::verb::get && !range_header.empty() &&
      (if_range.empty() || if_range_matches(if_range, etag))) {
    selection = select_byte_range(range_header, size);
  }

  switch (selection.outcome) {
    case range_outcome::partial: {
      const byte_range range = selection.range;
      headers.emplace_back("Content-Range", "bytes " + std::to_string(range.first) + "-" +
                                                std::to_string(range.last) + "/" +
                                                std::to_string(size));
      current.respond_file_part(http::status::partial_content, std::move(body), range.first,
                                range.length(), file.content_type, std::move(headers));
      return;
    }
    case range_outcome::unsatisfiable:
      headers.emplace_back("Content-Range", "bytes */" + std::to_string(size));
      current.respond(http::status::range_not_satisfiable, std::string(), std::string_view(),
                      std::move(headers));
      return;
    case range_outcome::whole:
      break;
  }
  current.respond_file_part(http::status::ok, std::move(body), 0, size, file.content_type,
                            std::move(headers));
}

}  // namespace jobgate::gateway
