#include <unistd.h>

#include <atomic>
#include <catch2/catch.hpp>
#include <filesystem>
#include <string>
#include <vector>

#include "gateway/import_upload.hpp"
#include "gateway/multipart_parser.hpp"

namespace {

namespace fs = std::filesystem;
using jobgate::filesystem_blob_store;
using jobgate::gateway::import_upload;
using jobgate::gateway::multipart_parser;
using jobgate::gateway::problem_kind;

constexpr std::string_view boundary = "----jobgate-test-boundary";
constexpr std::string_view blob_key = "tenant-a/imports/imp_test.csv";
constexpr std::string_view request_json = R"({"objectType":"contacts"})";
constexpr std::string_view csv =
    "Email,First Name\r\nann@example.com,Ann\r\nbob@example.com,Bob\r\n";

class temporary_directory {
 public:
  temporary_directory() {
    static std::atomic<int> counter{0};
    path_ = fs::temp_directory_path() /
            ("jobgate-upload-test-" + std::to_string(::getpid()) + "-" + std::to_string(counter++));
    fs::remove_all(path_);
  }
  ~temporary_directory() {
    std::error_code ignored;
    fs::remove_all(path_, ignored);
  }
  const fs::path& path() const { return path_; }

 private:
  fs::path path_;
};

// A blob store whose every call fails, as a full or read-only volume would.
class failing_blob_store final : public jobgate::blob_store {
 public:
  boost::system::result<std::unique_ptr<jobgate::blob_writer>> create(std::string_view) override {
    return boost::system::error_code(ENOSPC, boost::system::system_category());
  }
  boost::system::result<std::unique_ptr<jobgate::blob_reader>> open(std::string_view) override {
    return boost::system::error_code(ENOENT, boost::system::system_category());
  }
  boost::system::result<void> remove(std::string_view) override { return {}; }
  std::optional<fs::path> local_path(std::string_view) const override { return std::nullopt; }
};

struct part {
  std::string name;
  std::string filename;  // empty: a plain form field
  std::string content;
};

std::string multipart_body(const std::vector<part>& parts) {
  std::string body;
  for (const auto& item : parts) {
    body += "--" + std::string(boundary) + "\r\n";
    body += "Content-Disposition: form-data; name=\"" + item.name + "\"";
    if (!item.filename.empty()) {
      body += "; filename=\"" + item.filename + "\"\r\nContent-Type: text/csv";
    } else {
      body += "\r\nContent-Type: application/json";
    }
    body += "\r\n\r\n" + item.content + "\r\n";
  }
  body += "--" + std::string(boundary) + "--\r\n";
  return body;
}

// Feeds the body in pieces of piece_bytes, then ends it, and returns the first error.
std::error_code parse(import_upload& upload, std::string_view body, std::size_t piece_bytes) {
  multipart_parser parser(boundary, upload);
  for (std::size_t at = 0; at < body.size(); at += piece_bytes) {
    if (auto error = parser.feed(body.substr(at, piece_bytes))) {
      return error;
    }
  }
  return parser.finish();
}

std::string read_blob(jobgate::blob_store& store, std::string_view key) {
  auto reader = store.open(key);
  REQUIRE(reader.has_value());
  std::string content(static_cast<std::size_t>((*reader)->size()), '\0');
  std::size_t filled = 0;
  while (filled < content.size()) {
    auto read = (*reader)->read(content.data() + filled, content.size() - filled);
    REQUIRE(read.has_value());
    REQUIRE(*read > 0);
    filled += *read;
  }
  return content;
}

bool has_any_file(const fs::path& root) {
  for (const auto& entry : fs::recursive_directory_iterator(root)) {
    if (entry.is_regular_file()) {
      return true;
    }
  }
  return false;
}

}  // namespace

TEST_CASE("upload with both parts", "[gateway][upload]") {
  const std::size_t piece_bytes = GENERATE(1, 7, 64, 100000);
  temporary_directory directory;
  filesystem_blob_store store(directory.path());
  const std::string body = multipart_body(
      {{"importRequest", "", std::string(request_json)}, {"files", "fair.csv", std::string(csv)}});

  import_upload upload(store, std::string(blob_key), 1024);
  INFO("piece bytes " << piece_bytes);
  REQUIRE_FALSE(parse(upload, body, piece_bytes));
  CHECK_FALSE(upload.failure().has_value());
  CHECK(upload.has_request());
  CHECK(upload.has_file());
  CHECK(upload.request_json() == request_json);
  CHECK(upload.filename() == "fair.csv");
  CHECK(upload.file_bytes() == csv.size());

  CHECK_FALSE(store.open(blob_key).has_value());
  REQUIRE(upload.commit().has_value());
  CHECK(read_blob(store, blob_key) == csv);

  CHECK(upload.counted_records(jobgate::records::import_options{}) == 2);
}

TEST_CASE("upload counts records with request options", "[gateway][upload]") {
  temporary_directory directory;
  filesystem_blob_store store(directory.path());
  // A quoted field across lines is one record, and the semicolon is the delimiter asked for.
  const std::string semicolons = "Email;Note\r\na@x.test;\"two\r\nlines\"\r\nb@x.test;plain\r\n";
  const std::string body = multipart_body(
      {{"importRequest", "", R"({"objectType":"contacts","options":{"delimiter":";"}})"},
       {"files", "fair.csv", semicolons}});
  import_upload upload(store, std::string(blob_key), 1024);
  REQUIRE_FALSE(parse(upload, body, 3));

  jobgate::records::import_options semicolon;
  semicolon.delimiter = ';';
  CHECK(upload.counted_records(semicolon) == 2);
  // A count with other options than the request's is no count.
  CHECK_FALSE(upload.counted_records(jobgate::records::import_options{}).has_value());
}

TEST_CASE("upload counts with defaults without request options", "[gateway][upload]") {
  temporary_directory directory;
  filesystem_blob_store store(directory.path());
  const jobgate::records::import_options defaults;
  {
    // A request that does not parse leaves the default options, and the schema check rejects it.
    import_upload upload(store, std::string(blob_key), 1024);
    const std::string body = multipart_body(
        {{"importRequest", "", R"({"objectType":"contacts","options":{"delimiter":"\""}})"},
         {"files", "fair.csv", std::string(csv)}});
    REQUIRE_FALSE(parse(upload, body, 64));
    CHECK(upload.counted_records(defaults) == 2);
  }
  {
    import_upload upload(store, std::string(blob_key), 1024);
    const std::string body = multipart_body(
        {{"importRequest", "", "not json"}, {"files", "fair.csv", std::string(csv)}});
    REQUIRE_FALSE(parse(upload, body, 64));
    CHECK(upload.counted_records(defaults) == 2);
  }
  {
    auto preview = import_upload::preview(store, 1024, 16);
    const std::string body = multipart_body({{"importRequest", "", std::string(request_json)},
                                             {"files", "fair.csv", std::string(csv)}});
    REQUIRE_FALSE(parse(preview, body, 64));
    CHECK_FALSE(preview.counted_records(defaults).has_value());
  }
}

TEST_CASE("upload file part first", "[gateway][upload]") {
  temporary_directory directory;
  filesystem_blob_store store(directory.path());
  const std::string body = multipart_body(
      {{"files", "fair.csv", std::string(csv)}, {"importRequest", "", std::string(request_json)}});
  import_upload upload(store, std::string(blob_key), 1024);
  REQUIRE_FALSE(parse(upload, body, 5));
  CHECK(upload.has_request());
  CHECK(upload.has_file());
  CHECK(upload.request_json() == request_json);
  // The options arrived after the file, so the count used the default options.
  CHECK(upload.counted_records(jobgate::records::import_options{}) == 2);
  jobgate::records::import_options tabs;
  tabs.delimiter = '\t';
  CHECK_FALSE(upload.counted_records(tabs).has_value());
}

TEST_CASE("upload row limit counts like the import", "[gateway][upload][quotas]") {
  struct row_case {
    std::string_view name;
    std::string file;
    std::uint64_t rows;
  };
  // Rows are the records after the header, as import_row_processor produces them: a blank line is
  // a row (skipped as blank later), a final line end starts none, and a quoted line break is data.
  const std::vector<row_case> cases = {
      {"crlf", "Email\r\na@x.test\r\nb@x.test\r\n", 2},
      {"lf without final line end", "Email\na@x.test\nb@x.test", 2},
      {"lone cr", "Email\ra@x.test\rb@x.test\r", 2},
      {"quoted line breaks", "Email,Note\r\na@x.test,\"x\r\ny\ny\"\r\nb@x.test,\"\"\"\r\n\"\r\n",
       2},
      {"byte-order mark",
       "\xEF\xBB\xBF"
       "Email\r\na@x.test\r\n",
       1},
      {"blank lines", "Email\r\n\r\na@x.test\r\n\r\n", 3},
      {"header only", "Email\r\n", 0},
      {"empty file", "", 0},
      {"unterminated quote", "Email\r\n\"a@x.test\r\nb@x.test\r\n", 1},
  };
  const std::size_t piece_bytes = GENERATE(1, 3, 1000);
  for (const auto& item : cases) {
    INFO(item.name << ", piece bytes " << piece_bytes);
    temporary_directory directory;
    filesystem_blob_store store(directory.path());
    const std::string body = multipart_body(
        {{"importRequest", "", std::string(request_json)}, {"files", "a.csv", item.file}});

    import_upload exact(store, std::string(blob_key), 1024);
    exact.limit_rows(item.rows);
    REQUIRE_FALSE(parse(exact, body, piece_bytes));
    CHECK(exact.counted_records(jobgate::records::import_options{}) == item.rows);
    CHECK(jobgate::records::import_record_counter::count_data_records(
              item.file, jobgate::records::import_options{}) == item.rows);

    if (item.rows > 1) {
      import_upload over(store, std::string(blob_key), 1024);
      over.limit_rows(item.rows - 1);
      CHECK(parse(over, body, piece_bytes));
      REQUIRE(over.failure().has_value());
      CHECK(over.failure()->kind == problem_kind::too_many_rows);
      CHECK_FALSE(over.has_file());
    }
  }
}

TEST_CASE("upload row limit stops early", "[gateway][upload][quotas]") {
  temporary_directory directory;
  filesystem_blob_store store(directory.path());
  std::string file = "Email\r\n";
  for (int row = 0; row < 10000; ++row) {
    file += "someone" + std::to_string(row) + "@example.com\r\n";
  }
  const std::string body = multipart_body(
      {{"importRequest", "", std::string(request_json)}, {"files", "big.csv", file}});
  import_upload upload(store, std::string(blob_key), 1024);
  upload.limit_rows(100);
  CHECK(parse(upload, body, 4096));
  REQUIRE(upload.failure().has_value());
  CHECK(upload.failure()->kind == problem_kind::too_many_rows);
  // The upload stopped a piece or two after row 100, not at the end of the file.
  CHECK(upload.file_bytes() < 3 * 4096);
}

TEST_CASE("upload row limit waits for late options", "[gateway][upload][quotas]") {
  // The file comes before the request, so the count with the default options cannot stop the
  // upload: with ';' as delimiter the file has one row, with ',' it has two.
  temporary_directory directory;
  filesystem_blob_store store(directory.path());
  const std::string file = "Email;Note\r\na@x.test;\"x\r\ny\"\r\n";
  const std::string body = multipart_body(
      {{"files", "a.csv", file},
       {"importRequest", "", R"({"objectType":"contacts","options":{"delimiter":";"}})"}});
  import_upload upload(store, std::string(blob_key), 1024);
  upload.limit_rows(1);
  REQUIRE_FALSE(parse(upload, body, 7));
  CHECK_FALSE(upload.failure().has_value());
  CHECK(upload.counted_records(jobgate::records::import_options{}) == 2);
  REQUIRE(upload.commit().has_value());
  jobgate::records::import_options semicolon;
  semicolon.delimiter = ';';
  CHECK(jobgate::records::count_stored_records(store, blob_key, semicolon) == 1);
}

TEST_CASE("upload missing file part", "[gateway][upload]") {
  temporary_directory directory;
  filesystem_blob_store store(directory.path());
  const std::string body = multipart_body({{"importRequest", "", std::string(request_json)}});
  import_upload upload(store, std::string(blob_key), 1024);
  REQUIRE_FALSE(parse(upload, body, 16));
  CHECK_FALSE(upload.failure().has_value());
  CHECK(upload.has_request());
  CHECK_FALSE(upload.has_file());
  CHECK(upload.file_bytes() == 0);
  CHECK_FALSE(upload.commit().has_value());
  CHECK_FALSE(has_any_file(directory.path()));
}

TEST_CASE("upload missing request part", "[gateway][upload]") {
  temporary_directory directory;
  filesystem_blob_store store(directory.path());
  const std::string body = multipart_body({{"files", "fair.csv", std::string(csv)}});
  {
    import_upload upload(store, std::string(blob_key), 1024);
    REQUIRE_FALSE(parse(upload, body, 16));
    CHECK_FALSE(upload.failure().has_value());
    CHECK_FALSE(upload.has_request());
    CHECK(upload.has_file());
  }
  // The caller responds with 400 without committing, so the streamed file must disappear.
  CHECK_FALSE(has_any_file(directory.path()));
}

TEST_CASE("upload unexpected part", "[gateway][upload]") {
  temporary_directory directory;
  filesystem_blob_store store(directory.path());
  const std::string body = multipart_body({{"importRequest", "", std::string(request_json)},
                                           {"notes", "", "hello"},
                                           {"files", "fair.csv", std::string(csv)}});
  import_upload upload(store, std::string(blob_key), 1024);
  CHECK(parse(upload, body, 16));
  REQUIRE(upload.failure().has_value());
  CHECK(upload.failure()->kind == problem_kind::invalid_multipart);
  CHECK(upload.failure()->detail.find("'notes'") != std::string::npos);
  REQUIRE(upload.failure()->extra.size() == 1);
  CHECK(upload.failure()->extra[0] == std::pair<std::string, std::string>{"part", "notes"});
  CHECK_FALSE(upload.has_file());
}

TEST_CASE("upload second files part", "[gateway][upload]") {
  temporary_directory directory;
  filesystem_blob_store store(directory.path());
  const std::string body = multipart_body({{"importRequest", "", std::string(request_json)},
                                           {"files", "one.csv", std::string(csv)},
                                           {"files", "two.csv", "x,y\r\n"}});
  {
    import_upload upload(store, std::string(blob_key), 1024);
    CHECK(parse(upload, body, 3));
    REQUIRE(upload.failure().has_value());
    CHECK(upload.failure()->kind == problem_kind::invalid_multipart);
    REQUIRE(upload.failure()->extra.size() == 1);
    CHECK(upload.failure()->extra[0] == std::pair<std::string, std::string>{"part", "files"});
  }
  CHECK_FALSE(has_any_file(directory.path()));
}

TEST_CASE("upload second request part", "[gateway][upload]") {
  temporary_directory directory;
  filesystem_blob_store store(directory.path());
  const std::string body = multipart_body({{"importRequest", "", std::string(request_json)},
                                           {"importRequest", "", R"({"objectType":"companies"})"},
                                           {"files", "one.csv", std::string(csv)}});
  import_upload upload(store, std::string(blob_key), 1024);
  CHECK(parse(upload, body, 1000));
  REQUIRE(upload.failure().has_value());
  CHECK(upload.failure()->kind == problem_kind::invalid_multipart);
  CHECK(upload.failure()->detail.find("more than one importRequest") != std::string::npos);
}

TEST_CASE("upload oversized request part", "[gateway][upload]") {
  const std::size_t piece_bytes = GENERATE(1, 10, 4096);
  temporary_directory directory;
  filesystem_blob_store store(directory.path());
  const std::string large = R"({"objectType":"contacts","name":")" + std::string(200, 'n') + "\"}";
  const std::string body =
      multipart_body({{"importRequest", "", large}, {"files", "one.csv", std::string(csv)}});
  import_upload upload(store, std::string(blob_key), 128);
  INFO("piece bytes " << piece_bytes);
  CHECK(parse(upload, body, piece_bytes));
  REQUIRE(upload.failure().has_value());
  CHECK(upload.failure()->kind == problem_kind::payload_too_large);
  CHECK(upload.failure()->detail.find("128 bytes") != std::string::npos);
  CHECK(upload.request_json().size() <= 128);
  CHECK_FALSE(upload.has_request());
}

TEST_CASE("upload request part at limit", "[gateway][upload]") {
  temporary_directory directory;
  filesystem_blob_store store(directory.path());
  const std::string exact =
      R"({"objectType":"contacts","name":")" + std::string(128 - 35, 'n') + "\"}";
  REQUIRE(exact.size() == 128);
  const std::string body =
      multipart_body({{"importRequest", "", exact}, {"files", "one.csv", std::string(csv)}});
  import_upload upload(store, std::string(blob_key), 128);
  REQUIRE_FALSE(parse(upload, body, 9));
  CHECK(upload.request_json() == exact);
}

TEST_CASE("upload blob store failure", "[gateway][upload]") {
  failing_blob_store store;
  const std::string body = multipart_body(
      {{"importRequest", "", std::string(request_json)}, {"files", "fair.csv", std::string(csv)}});
  import_upload upload(store, std::string(blob_key), 1024);
  CHECK(parse(upload, body, 64));
  REQUIRE(upload.failure().has_value());
  CHECK(upload.failure()->kind == problem_kind::internal_error);
  CHECK(upload.has_request());
  CHECK_FALSE(upload.has_file());
}

TEST_CASE("upload interrupted body", "[gateway][upload]") {
  temporary_directory directory;
  filesystem_blob_store store(directory.path());
  const std::string body = multipart_body(
      {{"importRequest", "", std::string(request_json)}, {"files", "fair.csv", std::string(csv)}});
  {
    import_upload upload(store, std::string(blob_key), 1024);
    multipart_parser parser(boundary, upload);
    REQUIRE_FALSE(parser.feed(std::string_view(body).substr(0, body.size() - 30)));
    CHECK(parser.finish());
    CHECK_FALSE(upload.has_file());
  }
  CHECK_FALSE(has_any_file(directory.path()));
}
