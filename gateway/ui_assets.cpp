#include "gateway/ui_assets.hpp"

#include <array>
#include <utility>

#include "gateway/entity_tag.hpp"
#include "gateway/request_checks.hpp"
#include "ui/ui_files.hpp"

namespace jobgate::gateway {

ui_assets::ui_assets() {
  for (const auto name : ui::file_names()) {
    const auto content = *ui::find_file(name);
    assets_.emplace(std::string(name),
                    ui_asset{content, ui_media_type(name), make_strong_etag(content)});
  }
}

const ui_asset* ui_assets::find(std::string_view path) const {
  if (path.empty()) {
    path = "index.html";
  }
  const auto found = assets_.find(path);
  return found == assets_.end() ? nullptr : &found->second;
}

std::string_view ui_media_type(std::string_view file_name) {
  constexpr std::array<std::pair<std::string_view, std::string_view>, 4> types = {{
      {".html", "text/html; charset=utf-8"},
      {".js", "text/javascript; charset=utf-8"},
      {".css", "text/css; charset=utf-8"},
      {".svg", "image/svg+xml"},
  }};
  for (const auto& [extension, media_type] : types) {
    if (file_name.ends_with(extension)) {
      return media_type;
    }
  }
  return "application/octet-stream";
}

void respond_with_ui_file(exchange& current, std::string_view path) {
  const auto method = current.request().method();
  if (method != http::verb::get && method != http::verb::head) {
    current.respond_problem(method_not_allowed("GET, HEAD"),
                            one_header(http::field::allow, "GET, HEAD"));
    return;
  }

  // The pages load their scripts by relative URLs, which resolve against /ui/ but not /ui.
  if (path == "/ui") {
    current.respond(http::status::permanent_redirect, {}, {},
                    one_header(http::field::location, "/ui/"));
    return;
  }

  static const ui_assets assets;
  const auto* asset = assets.find(path.substr(std::string_view("/ui/").size()));
  if (asset == nullptr) {
    current.respond_problem(problem{problem_kind::not_found, "No dashboard file at this path."});
    return;
  }

  // File names carry no version, so a browser revalidates each file with its ETag on every use.
  header_list headers = {{"ETag", asset->etag},
                         {"Cache-Control", "no-cache"},
                         {"X-Content-Type-Options", "nosniff"},
                         {"Referrer-Policy", "no-referrer"}};
  if (asset->content_type.starts_with("text/html")) {
    headers.emplace_back("Content-Security-Policy",
                         "default-src 'self'; img-src 'self' data: blob:; object-src 'none'; "
                         "base-uri 'none'; form-action 'none'; frame-ancestors 'none'");
  }
  const auto& request = current.request();
  const auto if_none_match = request.find(http::field::if_none_match);
  if (if_none_match != request.end() &&
      if_none_match_matches(if_none_match->value(), asset->etag)) {
    current.respond(http::status::not_modified, {}, {}, std::move(headers));
    return;
  }
  current.respond(http::status::ok, std::string(asset->content), asset->content_type,
                  std::move(headers));
}

}  // namespace jobgate::gateway
