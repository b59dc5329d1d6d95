#include <catch2/catch.hpp>
#include <string>

#include "gateway/entity_tag.hpp"
#include "gateway/ui_assets.hpp"
#include "ui/ui_files.hpp"

using jobgate::gateway::ui_assets;
using jobgate::gateway::ui_media_type;

TEST_CASE("ui media types by extension", "[gateway][ui]") {
  CHECK(ui_media_type("index.html") == "text/html; charset=utf-8");
  CHECK(ui_media_type("pages/overview.js") == "text/javascript; charset=utf-8");
  CHECK(ui_media_type("style.css") == "text/css; charset=utf-8");
  CHECK(ui_media_type("icon.svg") == "image/svg+xml");
  CHECK(ui_media_type("notes.txt") == "application/octet-stream");
  CHECK(ui_media_type("js") == "application/octet-stream");
}

TEST_CASE("ui assets find embedded files", "[gateway][ui]") {
  const ui_assets assets;

  const auto* index = assets.find("");
  REQUIRE(index != nullptr);
  CHECK(index == assets.find("index.html"));
  CHECK(index->content_type == "text/html; charset=utf-8");
  CHECK(index->content.find("<script type=\"module\" src=\"app.js\">") != std::string::npos);
  CHECK(index->etag == jobgate::gateway::make_strong_etag(index->content));

  const auto* page = assets.find("pages/job_detail.js");
  REQUIRE(page != nullptr);
  CHECK(page->content_type == "text/javascript; charset=utf-8");
}

TEST_CASE("ui assets reject other paths", "[gateway][ui]") {
  const ui_assets assets;
  for (const auto* path :
       {"missing.js", "/index.html", "../index.html", "pages/../app.js", "./app.js", "pages",
        "pages/", "CMakeLists.txt", "ui_files.hpp", "app.js/", "APP.JS", "app.js%00"}) {
    INFO("path " << path);
    CHECK(assets.find(path) == nullptr);
  }
}

TEST_CASE("ui every file has a media type", "[gateway][ui]") {
  const auto names = jobgate::ui::file_names();
  REQUIRE(names.size() >= 5);
  for (const auto name : names) {
    INFO("file " << name);
    CHECK(ui_media_type(name) != "application/octet-stream");
    CHECK(jobgate::ui::find_file(name).has_value());
  }
}
