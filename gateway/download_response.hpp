#pragma once

#include <cstdint>
#include <filesystem>
#include <string>

#include "gateway/exchange.hpp"

namespace jobgate::gateway {

// An export file behind a valid download link, and what its response headers depend on.
struct download_file {
  std::filesystem::path path;
  std::string content_type;
  std::string file_name;  // the attachment's name in Content-Disposition
  std::string job_id;
  std::int64_t finished_at = 0;      // the job's completion time in milliseconds
  std::int64_t max_age_seconds = 0;  // seconds until the link expires
};

// Returns the expiry of a new download link in Unix seconds: at least `ttl_seconds` after
// `now_seconds`, rounded up to a multiple of a tenth of the TTL (1 to 60 seconds). So result
// requests within one such step get the same link, body and ETag, and If-None-Match can match.
std::int64_t download_link_expiry(std::int64_t now_seconds, std::int64_t ttl_seconds);

// Records the response to a GET or HEAD of an export file. Responses other than 410 carry a strong
// ETag derived from the job id, completion time and file size, "Cache-Control: private, max-age=N"
// that ends with the link, and "Accept-Ranges: bytes". A matching If-None-Match gets 304. A GET
// with one satisfiable range gets 206 with Content-Range, an unsatisfiable one 416 with
// "Content-Range: bytes */size", and anything else the whole file with 200. An If-Range that is not
// the current ETag turns a range request into 200. A missing file gets a 410 result-expired
// problem.
void respond_download(exchange& current, const download_file& file);

}  // namespace jobgate::gateway
