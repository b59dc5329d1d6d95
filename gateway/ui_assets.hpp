#pragma once

#include <map>
#include <string>
#include <string_view>

#include "gateway/exchange.hpp"

namespace jobgate::gateway {

// One static dashboard file as the gateway serves it.
struct ui_asset {
  std::string_view content;
  std::string_view content_type;
  // A strong entity tag of the content, quoted as the ETag header carries it.
  std::string etag;
};

// The dashboard's static files embedded from ui/, with their media types and entity tags computed
// once at construction. Immutable afterwards, so one instance serves every thread.
class ui_assets {
 public:
  ui_assets();

  // Returns the file at `path`, relative to /ui/ (an empty path is index.html), or nullptr when
  // there is none. Only the embedded names match, so "..", "." or an encoded path never reaches
  // any other file.
  const ui_asset* find(std::string_view path) const;

 private:
  std::map<std::string, ui_asset, std::less<>> assets_;
};

// Returns the media type for a file name by its extension, with a charset for text types, or
// application/octet-stream for an extension the dashboard does not use.
std::string_view ui_media_type(std::string_view file_name);

// Records the response to a request for /ui or a path below it. That is a redirect from /ui to
// /ui/, a file with its ETag (or 304 when If-None-Match matches it), 404 for an unknown file, or
// 405 for a method other than GET and HEAD. No API key is needed, because the files hold no
// tenant data.
void respond_with_ui_file(exchange& current, std::string_view path);

}  // namespace jobgate::gateway
