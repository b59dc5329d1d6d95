#include "gateway/multipart_parser.hpp"

#include <algorithm>
#include <catch2/catch.hpp>
#include <cstdint>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "gateway/multipart_error.hpp"

namespace {

using jobgate::gateway::multipart_error;
using jobgate::gateway::multipart_handler;
using jobgate::gateway::multipart_limits;
using jobgate::gateway::multipart_parser;
using jobgate::gateway::multipart_part_headers;

struct recorded_part {
  multipart_part_headers headers;
  std::string data;
  bool ended = false;
};

// Records every event and notes any that breaks the begin, data, end order or is an empty piece.
class recording_handler final : public multipart_handler {
 public:
  std::vector<recorded_part> parts;
  std::string protocol_violation;
  std::size_t max_part_bytes = SIZE_MAX;

  std::error_code on_part_begin(const multipart_part_headers& headers) override {
    if (!parts.empty() && !parts.back().ended) {
      protocol_violation = "part began before the previous part ended";
    }
    parts.push_back({headers, {}, false});
    return {};
  }

  std::error_code on_part_data(std::string_view data) override {
    if (data.empty()) {
      protocol_violation = "empty data piece";
    }
    if (parts.empty() || parts.back().ended) {
      protocol_violation = "data outside a part";
      return {};
    }
    parts.back().data.append(data);
    if (parts.back().data.size() > max_part_bytes) {
      return std::make_error_code(std::errc::file_too_large);
    }
    return {};
  }

  std::error_code on_part_end() override {
    if (parts.empty() || parts.back().ended) {
      protocol_violation = "part ended twice or before it began";
    } else {
      parts.back().ended = true;
    }
    return {};
  }
};

struct expected_part {
  std::string name;
  std::optional<std::string> filename;
  std::string content_type;
  std::string data;
};

// A printable summary of a parse outcome, so that two outcomes compare as strings and a failed
// comparison shows both.
std::string escape(std::string_view text) {
  std::string out;
  for (const char c : text) {
    if (c == '\r') {
      out += "\\r";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out.push_back(c);
    }
  }
  return out;
}

std::string describe_part(const std::string& name, const std::optional<std::string>& filename,
                          const std::string& content_type, const std::string& data) {
  std::string out = "part name=" + name;
  out += filename ? " filename=" + *filename : " no-filename";
  out += " type=" + content_type + " size=" + std::to_string(data.size());
  out += data.size() <= 200 ? " data=" + escape(data)
                            : " hash=" + std::to_string(std::hash<std::string>{}(data));
  return out + "\n";
}

std::string describe(std::error_code error, const std::vector<expected_part>& parts) {
  std::string out = error ? "error: " + error.message() + "\n" : "ok\n";
  for (const auto& part : parts) {
    out += describe_part(part.name, part.filename, part.content_type, part.data);
  }
  return out;
}

std::string describe_outcome(std::error_code error, const recording_handler& handler) {
  std::string out = error ? "error: " + error.message() + "\n" : "ok\n";
  if (!handler.protocol_violation.empty()) {
    out += "protocol violation: " + handler.protocol_violation + "\n";
  }
  for (const auto& part : handler.parts) {
    if (!error && !part.ended) {
      out += "unended ";
    }
    out += describe_part(part.headers.name, part.headers.filename, part.headers.content_type,
                         part.data);
  }
  return out;
}

std::string parse_chunks(std::string_view boundary, const std::vector<std::string_view>& chunks,
                         multipart_limits limits = {}) {
  recording_handler handler;
  multipart_parser parser(boundary, handler, limits);
  std::error_code error;
  for (const auto chunk : chunks) {
    error = parser.feed(chunk);
    if (error) {
      break;
    }
  }
  if (!error) {
    error = parser.finish();
  }
  return describe_outcome(error, handler);
}

std::vector<std::string_view> split_at(std::string_view body, std::vector<std::size_t> cuts) {
  std::sort(cuts.begin(), cuts.end());
  std::vector<std::string_view> chunks;
  std::size_t start = 0;
  for (const auto cut : cuts) {
    chunks.push_back(body.substr(start, cut - start));
    start = cut;
  }
  chunks.push_back(body.substr(start));
  return chunks;
}

std::vector<std::string_view> split_bytes(std::string_view body) {
  std::vector<std::string_view> chunks;
  for (std::size_t i = 0; i < body.size(); ++i) {
    chunks.push_back(body.substr(i, 1));
  }
  return chunks;
}

std::vector<std::string_view> split_random(std::string_view body, std::uint32_t seed,
                                           std::size_t max_chunk) {
  std::mt19937 random(seed);
  std::uniform_int_distribution<std::size_t> size(1, max_chunk);
  std::vector<std::string_view> chunks;
  for (std::size_t start = 0; start < body.size();) {
    const std::size_t length = std::min(size(random), body.size() - start);
    chunks.push_back(body.substr(start, length));
    start += length;
  }
  return chunks;
}

// Cut positions within 8 bytes of every occurrence of the boundary and of CRLF "-", clamped to
// the body, which is where a split can land inside a delimiter match or a near match.
std::set<std::size_t> cuts_near_boundaries(std::string_view body, std::string_view boundary) {
  std::set<std::size_t> cuts;
  auto add_window = [&](std::size_t from, std::size_t to) {
    const std::size_t low = from > 8 ? from - 8 : 0;
    const std::size_t high = std::min(to + 8, body.size());
    for (std::size_t cut = low; cut <= high; ++cut) {
      cuts.insert(cut);
    }
  };
  for (auto at = body.find(boundary); at != std::string_view::npos;
       at = body.find(boundary, at + 1)) {
    add_window(at, at + boundary.size());
  }
  for (auto at = body.find("\r\n-"); at != std::string_view::npos;
       at = body.find("\r\n-", at + 1)) {
    add_window(at, at + 3);
  }
  return cuts;
}

// Parses the body whole, one byte at a time, split in two at every position (near every boundary
// for large bodies), split in three near boundaries, and in random chunk sizes. Every outcome
// must equal the expected one.
void check_every_split(std::string_view boundary, std::string_view body,
                       const std::string& expected, multipart_limits limits = {}) {
  {
    INFO("whole body");
    REQUIRE(parse_chunks(boundary, {body}, limits) == expected);
  }
  {
    INFO("one byte at a time");
    REQUIRE(parse_chunks(boundary, split_bytes(body), limits) == expected);
  }

  std::set<std::size_t> cuts = cuts_near_boundaries(body, boundary);
  if (body.size() <= 4096) {
    for (std::size_t cut = 0; cut <= body.size(); ++cut) {
      cuts.insert(cut);
    }
  }
  for (const auto cut : cuts) {
    const auto actual = parse_chunks(boundary, split_at(body, {cut}), limits);
    if (actual != expected) {
      INFO("split at " << cut);
      REQUIRE(actual == expected);
    }
  }

  // Three chunks with both cuts near the same boundary, so a delimiter spans three feeds. Large
  // bodies skip this because each of the thousands of splits parses the whole body again.
  for (auto at = body.size() <= 65536 ? body.find(boundary) : std::string_view::npos;
       at != std::string_view::npos; at = body.find(boundary, at + 1)) {
    const std::size_t low = at >= 4 ? at - 4 : 0;
    const std::size_t high = std::min(at + boundary.size() + 4, body.size());
    for (std::size_t first = low; first <= high; ++first) {
      for (std::size_t second = first; second <= high; ++second) {
        const auto actual = parse_chunks(boundary, split_at(body, {first, second}), limits);
        if (actual != expected) {
          INFO("split at " << first << " and " << second);
          REQUIRE(actual == expected);
        }
      }
    }
  }

  for (std::uint32_t seed = 1; seed <= 20; ++seed) {
    const std::size_t max_chunk = seed % 2 == 0 ? 7 : 1 + body.size() / 3;
    const auto actual = parse_chunks(boundary, split_random(body, seed, max_chunk), limits);
    if (actual != expected) {
      INFO("random split, seed " << seed << ", chunks up to " << max_chunk << " bytes");
      REQUIRE(actual == expected);
    }
  }
}

std::string field_part(std::string_view boundary, std::string_view name, std::string_view data) {
  return "--" + std::string(boundary) + "\r\nContent-Disposition: form-data; name=\"" +
         std::string(name) + "\"\r\n\r\n" + std::string(data) + "\r\n";
}

std::string close_delimiter(std::string_view boundary) {
  return "--" + std::string(boundary) + "--\r\n";
}

std::string error_text(multipart_error error) {
  return "error: " + make_error_code(error).message() + "\n";
}

}  // namespace

TEST_CASE("multipart parser field and file", "[multipart]") {
  const std::string boundary = "----WebKitFormBoundaryTkr3kCBQlBe1nrhc";
  const std::string json = R"({"name":"spring fair","objectType":"contacts"})";
  const std::string csv = "Email,First Name\r\na@example.com,Ann\r\nb@example.com,Bob\r\n";
  const std::string body =
      field_part(boundary, "importRequest", json) + "--" + boundary +
      "\r\nContent-Disposition: form-data; name=\"files\"; filename=\"contacts.csv\"\r\n"
      "Content-Type: text/csv\r\n\r\n" +
      csv + "\r\n" + close_delimiter(boundary);

  const auto expected = describe(
      {}, {{"importRequest", std::nullopt, "", json}, {"files", "contacts.csv", "text/csv", csv}});
  check_every_split(boundary, body, expected);
}

TEST_CASE("multipart parser near-delimiter data", "[multipart]") {
  const std::string boundary = "XyZ123";
  // Every line here starts like a delimiter but is not one, so all of it is part data.
  const std::string data =
      "a\r\n--XyZ12\r\n--XyZ1\r\r\n-\r\n--\r\n--XyZ123Q\r\n--XyZ123-Q"
      "\r\n--XyZ123\rQ\r\n--XyZ123\r\r\n--XyZ123-\r\n--XyZ12"
      "--XyZ123\r\n\n--XyZ123\n\r--XyZ123\r\nx--XyZ123--\r\n\r\n\r";
  const std::string body = field_part(boundary, "tricky", data) + close_delimiter(boundary);

  check_every_split(boundary, body, describe({}, {{"tricky", std::nullopt, "", data}}));
}

TEST_CASE("multipart parser data ending near delimiter", "[multipart]") {
  const std::string boundary = "b";
  // Data that ends with the start of a delimiter, right before the real one.
  for (const std::string data : {"\r", "\r\n", "\r\n-", "\r\n--", "\r\n--b-", "\r\n--b\r"}) {
    INFO("data: " << escape(data));
    const std::string body = field_part(boundary, "f", data) + close_delimiter(boundary);
    check_every_split(boundary, body, describe({}, {{"f", std::nullopt, "", data}}));
  }
}

TEST_CASE("multipart parser empty parts", "[multipart]") {
  const std::string boundary = "sep";
  const std::string body = field_part(boundary, "first", "") + field_part(boundary, "second", "x") +
                           field_part(boundary, "third", "") + close_delimiter(boundary);

  check_every_split(boundary, body,
                    describe({}, {{"first", std::nullopt, "", ""},
                                  {"second", std::nullopt, "", "x"},
                                  {"third", std::nullopt, "", ""}}));
}

TEST_CASE("multipart parser zero parts", "[multipart]") {
  check_every_split("sep", "--sep--", describe({}, {}));
  check_every_split("sep", "--sep--\r\n", describe({}, {}));
}

TEST_CASE("multipart parser preamble and epilogue", "[multipart]") {
  const std::string boundary = "sep";
  const std::string body = "This is the preamble.\r\n--sepx is not a delimiter\r\n" +
                           field_part(boundary, "a", "1") +
                           "--sep--  \r\nepilogue\r\n--sep\r\nContent-Disposition: bogus\r\n";

  check_every_split(boundary, body, describe({}, {{"a", std::nullopt, "", "1"}}));
}

TEST_CASE("multipart parser transport padding", "[multipart]") {
  const std::string boundary = "sep";
  const std::string body =
      "--sep \t \r\nContent-Disposition: form-data; name=a\r\n\r\n1\r\n--sep\t\r\n"
      "Content-Disposition: form-data; name=b\r\n\r\n2\r\n--sep-- \t";

  check_every_split(boundary, body,
                    describe({}, {{"a", std::nullopt, "", "1"}, {"b", std::nullopt, "", "2"}}));
}

TEST_CASE("multipart parser malformed delimiter padding", "[multipart]") {
  const std::string boundary = "sep";
  const std::string body = field_part(boundary, "a", "1") + "--sep  x\r\n";

  recording_handler handler;
  multipart_parser parser(boundary, handler);
  CHECK(parser.feed(body) == multipart_error::malformed_delimiter);
  CHECK(parser.finish() == multipart_error::malformed_delimiter);
  REQUIRE(handler.parts.size() == 1);
  CHECK_FALSE(handler.parts[0].ended);

  check_every_split(boundary, body,
                    error_text(multipart_error::malformed_delimiter) +
                        "part name=a no-filename type= size=1 data=1\n");
}

TEST_CASE("multipart parser rejects bare LF", "[multipart]") {
  const std::string boundary = "sep";
  // Without CRLF no delimiter line is recognized, so the whole body is preamble.
  const std::string body = "--sep\nContent-Disposition: form-data; name=a\n\n1\n--sep--\n";
  check_every_split(boundary, body, error_text(multipart_error::missing_closing_boundary));

  const std::string bare_lf_header =
      "--sep\r\nContent-Disposition: form-data; name=a\nX: 1\r\n\r\n1\r\n--sep--";
  check_every_split(boundary, bare_lf_header, error_text(multipart_error::malformed_header));
}

TEST_CASE("multipart parser missing final boundary", "[multipart]") {
  const std::string boundary = "sep";
  const std::string body =
      field_part(boundary, "a", "one") + field_part(boundary, "b", "two") + "--sep--\r\n";
  const std::size_t close_end = body.size() - 2;

  // Any truncation before the close delimiter's final dash is a missing boundary.
  for (std::size_t length = 0; length < close_end; ++length) {
    recording_handler handler;
    multipart_parser parser(boundary, handler);
    INFO("body truncated to " << length << " bytes");
    REQUIRE_FALSE(parser.feed(std::string_view(body).substr(0, length)));
    REQUIRE(parser.finish() == multipart_error::missing_closing_boundary);
    REQUIRE_FALSE(parser.done());
  }

  recording_handler handler;
  multipart_parser parser(boundary, handler);
  REQUIRE_FALSE(parser.feed(std::string_view(body).substr(0, close_end)));
  CHECK(parser.done());
  CHECK_FALSE(parser.finish());
  CHECK(handler.parts.size() == 2);
}

TEST_CASE("multipart parser header size limit", "[multipart]") {
  const std::string boundary = "sep";
  const std::string header_line = "Content-Disposition: form-data; name=a\r\n";
  // The limit counts every byte of the block including the empty line.
  const std::size_t block_bytes = header_line.size() + 2;
  const std::string body = "--sep\r\n" + header_line + "\r\nvalue\r\n--sep--";

  multipart_limits exact;
  exact.max_header_bytes = block_bytes;
  check_every_split(boundary, body, describe({}, {{"a", std::nullopt, "", "value"}}), exact);

  multipart_limits smaller;
  smaller.max_header_bytes = block_bytes - 1;
  check_every_split(boundary, body, error_text(multipart_error::header_too_large), smaller);
}

TEST_CASE("multipart parser endless header block", "[multipart]") {
  // A header block that never ends fails as soon as it passes the limit, fed in any chunks.
  multipart_limits limits;
  limits.max_header_bytes = 100;
  const std::string body = "--sep\r\nX-Filler: " + std::string(1000, 'a');

  recording_handler handler;
  multipart_parser parser("sep", handler, limits);
  std::size_t fed = 0;
  std::error_code error;
  while (!error && fed < body.size()) {
    error = parser.feed(std::string_view(body).substr(fed, 1));
    ++fed;
  }
  CHECK(error == multipart_error::header_too_large);
  CHECK(fed == std::string("--sep\r\n").size() + 101);
}

TEST_CASE("multipart parser part count limit", "[multipart]") {
  const std::string boundary = "sep";
  multipart_limits limits;
  limits.max_parts = 3;
  const std::string three = field_part(boundary, "a", "1") + field_part(boundary, "b", "2") +
                            field_part(boundary, "c", "3");

  check_every_split(boundary, three + close_delimiter(boundary),
                    describe({}, {{"a", std::nullopt, "", "1"},
                                  {"b", std::nullopt, "", "2"},
                                  {"c", std::nullopt, "", "3"}}),
                    limits);

  const std::string four = three + field_part(boundary, "d", "4") + close_delimiter(boundary);
  check_every_split(boundary, four,
                    error_text(multipart_error::too_many_parts) +
                        "part name=a no-filename type= size=1 data=1\n"
                        "part name=b no-filename type= size=1 data=2\n"
                        "part name=c no-filename type= size=1 data=3\n",
                    limits);
}

TEST_CASE("multipart parser handler error stops", "[multipart]") {
  const std::string boundary = "sep";
  const std::string body = field_part(boundary, "a", std::string(100, 'x')) + "--sep--";

  recording_handler handler;
  handler.max_part_bytes = 10;
  multipart_parser parser(boundary, handler);
  const auto too_large = std::make_error_code(std::errc::file_too_large);
  std::error_code error;
  for (std::size_t i = 0; i < body.size() && !error; i += 7) {
    error = parser.feed(std::string_view(body).substr(i, 7));
  }
  CHECK(error == too_large);
  CHECK(parser.feed("more") == too_large);
  CHECK(parser.finish() == too_large);
  REQUIRE(handler.parts.size() == 1);
  CHECK(handler.parts[0].data.size() <= 16);
  CHECK_FALSE(handler.parts[0].ended);
}

TEST_CASE("multipart parser one MiB part", "[multipart]") {
  const std::string boundary = "----WebKitFormBoundary7MA4YWxkTrZu0gW";
  std::mt19937 random(42);
  std::uniform_int_distribution<int> byte(0, 255);
  std::string data(1 << 20, '\0');
  for (auto& c : data) {
    c = static_cast<char>(byte(random));
  }
  // Plant near-matches: CRLF "--" plus a prefix of the boundary, and the whole boundary
  // followed by a byte that keeps it from being a delimiter.
  const std::string delimiter = "\r\n--" + boundary;
  std::uniform_int_distribution<std::size_t> where(0, data.size() - delimiter.size() - 2);
  const std::size_t full = delimiter.size();
  const std::vector<std::size_t> prefix_lengths = {1, 2, 3, 4, 5, 8, 20, full - 1, full, full};
  for (std::size_t i = 0; i < 3 * prefix_lengths.size(); ++i) {
    const std::size_t at = where(random);
    const std::size_t prefix = prefix_lengths[i % prefix_lengths.size()];
    data.replace(at, prefix, delimiter.substr(0, prefix));
    if (prefix == delimiter.size()) {
      data[at + prefix] = 'Q';
    }
  }
  for (const std::string_view ending : {"\r", "-", " ", "\t"}) {
    REQUIRE(data.find(delimiter + std::string(ending)) == std::string::npos);
  }
  data.back() = '\r';

  const std::string body =
      field_part(boundary, "importRequest", "{}") + "--" + boundary +
      "\r\nContent-Disposition: form-data; name=\"files\"; filename=\"big.bin\"\r\n"
      "Content-Type: application/octet-stream\r\n\r\n" +
      data + "\r\n" + close_delimiter(boundary);

  check_every_split(boundary, body,
                    describe({}, {{"importRequest", std::nullopt, "", "{}"},
                                  {"files", "big.bin", "application/octet-stream", data}}));
}

TEST_CASE("multipart parser malformed headers", "[multipart]") {
  const std::vector<std::string> header_blocks = {
      "Content-\r\nisposition: form-data; name=a\r\n",
      "Content-\risposition: form-data; name=a\r\n",
      "Content-Disposition: form-data; n\rame=a\r\n",
      "Content-Disposition: form-data; name=a\r\rX",
      "Content-<<<position: form-data; name=a\r\n",
      ": form-data; name=a\r\n",
      "Content-Disposition : form-data; name=a\r\n",
      " folded: first line\r\nContent-Disposition: form-data; name=a\r\n",
      "Content-Disposition: form-data; name=a\r\nX-Bad: a\x01z\r\n",
      "Content-Disposition: form-data; name=a\r\nX-Bad: a\x7fz\r\n",
  };
  for (const auto& block : header_blocks) {
    INFO("header block: " << escape(block));
    const std::string body = "--sep\r\n" + block + "\r\ndata\r\n--sep--";
    check_every_split("sep", body, error_text(multipart_error::malformed_header));
  }
}

TEST_CASE("multipart parser Content-Disposition values", "[multipart]") {
  struct disposition_case {
    std::string header;
    std::string name;
    std::optional<std::string> filename;
  };
  const std::vector<disposition_case> cases = {
      {R"(form-data; name="a")", "a", std::nullopt},
      {R"(FORM-DATA; NAME=a; FILENAME=b.csv)", "a", "b.csv"},
      {R"(form-data; filename="x.csv"; name="files")", "files", "x.csv"},
      {R"(form-data; name="a\"b"; filename="c:\\dir\\q\"t.csv")", "a\"b", "c:\\dir\\q\"t.csv"},
      {R"(form-data; name="a"; filename="")", "a", ""},
      {R"(form-data; name=a; filename*=UTF-8''%e2%82%ac%20rates.csv)", "a", "\u20ac rates.csv"},
      {R"(form-data; name=a; filename*=iso-8859-1'de'Gr%FC%DFe.csv)", "a", "Gr\u00fc\u00dfe.csv"},
      {R"(form-data; name=a; filename*=UTF-8''new.csv; filename="old.csv")", "a", "new.csv"},
      {R"(form-data; name=a; filename="old.csv"; filename*=UTF-8''new.csv)", "a", "new.csv"},
      {"form-data; name=\"caf\xc3\xa9\"; filename=\"\xe3\x81\x93.txt\"", "caf\xc3\xa9",
       "\xe3\x81\x93.txt"},
      {"form-data;name=a;;", "a", std::nullopt},
      {"form-data; name=a; size=12; other=\"x;y\"", "a", std::nullopt},
  };
  for (const auto& c : cases) {
    INFO("Content-Disposition: " << c.header);
    const std::string body =
        "--sep\r\nContent-Disposition: " + c.header + "\r\n\r\nv\r\n--sep--\r\n";
    check_every_split("sep", body, describe({}, {{c.name, c.filename, "", "v"}}));
  }
}

TEST_CASE("multipart parser invalid Content-Disposition", "[multipart]") {
  const std::vector<std::string> header_blocks = {
      "Content-Type: text/plain\r\n",
      "Content-Disposition: attachment; name=a\r\n",
      "Content-Disposition: form-data\r\n",
      "Content-Disposition: form-data; filename=a.csv\r\n",
      "Content-Disposition: form-data; name=a; name=b\r\n",
      "Content-Disposition: form-data; name=a; filename=x; filename=y\r\n",
      "Content-Disposition: form-data; name=\"a\r\n",
      "Content-Disposition: form-data; name=a b\r\n",
      "Content-Disposition: form-data; name\r\n",
      "Content-Disposition: form-data; name=a; filename*=UTF-8''%e2%82\r\n",
      "Content-Disposition: form-data; name=a; filename*=UTF-8''%zz\r\n",
      "Content-Disposition: form-data; name=a; filename*=Shift_JIS''abc\r\n",
      "Content-Disposition: form-data; name=a; filename*=abc.csv\r\n",
      "",
  };
  for (const auto& block : header_blocks) {
    INFO("header block: " << escape(block));
    const std::string body = "--sep\r\n" + block + "\r\ndata\r\n--sep--";
    check_every_split("sep", body, error_text(multipart_error::invalid_content_disposition));
  }
}

TEST_CASE("multipart parser other part headers", "[multipart]") {
  const std::string body =
      "--sep\r\ncontent-disposition: form-data;\r\n name=\"a\"\r\nX-Note:  \t spaced \t\r\n"
      "CONTENT-TYPE: text/csv; charset=utf-8\r\nContent-Transfer-Encoding: BINARY\r\n\r\nv\r\n"
      "--sep--";
  recording_handler handler;
  multipart_parser parser("sep", handler);
  REQUIRE_FALSE(parser.feed(body));
  REQUIRE_FALSE(parser.finish());
  REQUIRE(handler.parts.size() == 1);
  const auto& headers = handler.parts[0].headers;
  CHECK(headers.name == "a");
  CHECK(headers.content_type == "text/csv; charset=utf-8");
  REQUIRE(headers.fields.size() == 4);
  CHECK(headers.fields[0].name == "content-disposition");
  CHECK(headers.fields[0].value == "form-data; name=\"a\"");
  CHECK(headers.fields[1].name == "X-Note");
  CHECK(headers.fields[1].value == "spaced");
  CHECK(headers.fields[3].value == "BINARY");

  const std::string base64 =
      "--sep\r\nContent-Disposition: form-data; name=a\r\nContent-Transfer-Encoding: base64\r\n"
      "\r\ndg==\r\n--sep--";
  check_every_split("sep", base64, error_text(multipart_error::unsupported_transfer_encoding));

  const std::string repeated =
      "--sep\r\nContent-Disposition: form-data; name=a\r\nContent-Type: text/csv\r\n"
      "content-type: text/plain\r\n\r\nv\r\n--sep--";
  check_every_split("sep", repeated, error_text(multipart_error::duplicate_header));
}

TEST_CASE("multipart parser invalid boundary", "[multipart]") {
  for (const std::string& boundary : {std::string(), std::string(71, 'a'), std::string("a\rb"),
                                      std::string("ab "), std::string("a*b")}) {
    INFO("boundary: " << escape(boundary));
    recording_handler handler;
    multipart_parser parser(boundary, handler);
    CHECK(parser.feed("--" + boundary + "--") == multipart_error::invalid_boundary);
    CHECK(parser.finish() == multipart_error::invalid_boundary);
  }
}

TEST_CASE("multipart parser ignores input after close", "[multipart]") {
  recording_handler handler;
  multipart_parser parser("sep", handler);
  REQUIRE_FALSE(parser.feed(field_part("sep", "a", "1") + "--sep--"));
  CHECK(parser.done());
  CHECK(parser.part_count() == 1);
  CHECK_FALSE(parser.feed("\r\n--sep\r\nContent-Disposition: form-data; name=b\r\n\r\n"));
  CHECK_FALSE(parser.finish());
  CHECK(handler.parts.size() == 1);
}

TEST_CASE("multipart error category messages", "[multipart]") {
  const auto& category = jobgate::gateway::multipart_category();
  CHECK(std::string(category.name()) == "multipart");

  std::set<std::string> messages;
  for (int value = static_cast<int>(multipart_error::invalid_boundary);
       value <= static_cast<int>(multipart_error::missing_closing_boundary); ++value) {
    const std::error_code error = static_cast<multipart_error>(value);
    CHECK(error.category() == category);
    CHECK(error.message().rfind("unknown", 0) != 0);
    messages.insert(error.message());
  }
  CHECK(messages.size() == 9);
  CHECK(std::error_code(99, category).message() == "unknown multipart error 99");
}
