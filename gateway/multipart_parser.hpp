#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

namespace jobgate::gateway {

// Extracts the boundary parameter of a Content-Type value such as
// `multipart/form-data; boundary="abc"`. Type and parameter names compare case-insensitively and
// the value may be a token or a quoted-string. Returns nullopt when the media type is not
// multipart/form-data, the parameter is missing or repeated, the value breaks the RFC 2046 rules
// (1 to 70 characters from its set, no trailing space), or the parameter list is malformed.
std::optional<std::string> multipart_boundary(std::string_view content_type);

// One header line of a part, with the name as sent and the value without surrounding whitespace.
struct multipart_header_field {
  std::string name;
  std::string value;
};

// Headers of one part, parsed when its header block is complete.
struct multipart_part_headers {
  // The Content-Disposition name parameter (form field name).
  std::string name;
  // The decoded filename: from `filename*` (RFC 8187, UTF-8 or ISO-8859-1, returned as UTF-8)
  // when present, else from `filename` with quoted-pair escapes removed. Absent for plain fields.
  // NOTE: browsers and curl 7.81+ send `"` as %22 and a backslash unescaped, so a backslash in
  // such a filename is dropped as an escape, and %XX sequences are kept as sent.
  std::optional<std::string> filename;
  // The Content-Type value as sent, empty when absent (RFC 7578 then implies text/plain).
  std::string content_type;
  // Every header line of the part in arrival order, folded lines joined.
  std::vector<multipart_header_field> fields;
};

// Receives the parts of one multipart body. A non-zero error code stops the parse, and
// multipart_parser::feed() returns that code. Part data arrives as pieces whose concatenation is
// the exact part body; a piece is never empty and stays valid only during the call.
//
// This is an interface rather than a struct of std::function because one object keeps the state
// of an upload (open blob, JSON buffer, byte counts) across all three events. A data piece then
// costs one virtual call, with no type erasure and no state shared between captures.
class multipart_handler {
 public:
  virtual ~multipart_handler() = default;

  virtual std::error_code on_part_begin(const multipart_part_headers& headers) = 0;
  virtual std::error_code on_part_data(std::string_view data) = 0;
  // Called once the delimiter after the part is confirmed. Not called for a part that an error
  // interrupted, so the handler discards such a part when feed() or finish() fails.
  virtual std::error_code on_part_end() = 0;
};

struct multipart_limits {
  // Maximum bytes of one part's header block, counting line ends and the empty line.
  std::size_t max_header_bytes = 16 * 1024;
  // Maximum number of parts in the body.
  std::size_t max_parts = 16;
};

// Streaming multipart/form-data parser (RFC 7578 over RFC 2046). It accepts the body in chunks of
// any size and holds at most one header block plus a partial delimiter match, so part data passes
// through without being buffered. Bytes before the first delimiter (preamble) and after the close
// delimiter (epilogue) are ignored.
//
// Line ends must be CRLF: a bare LF ends neither a header line nor a delimiter line, and
// "LF--boundary" inside data is data. A delimiter is CRLF "--" boundary, then either "--"
// (the close delimiter) or optional spaces and tabs and CRLF. The boundary followed by any other
// byte is part data, except that spaces or tabs followed by anything but CRLF fail with
// malformed_delimiter. The first delimiter may start the body without the leading CRLF.
//
// The parser does not own the handler, which must outlive it. Not thread-safe: one parser serves
// one request body on one strand. After a failure every call returns the same error.
class multipart_parser {
 public:
  // An invalid boundary (see multipart_boundary) makes every feed() and finish() return
  // multipart_error::invalid_boundary.
  multipart_parser(std::string_view boundary, multipart_handler& handler,
                   multipart_limits limits = {});

  // Parses the next chunk of the body. Returns a multipart_error, or the first error a handler
  // callback returned. Input after the close delimiter is ignored.
  std::error_code feed(std::string_view chunk);

  // Ends the body. Returns missing_closing_boundary unless the close delimiter was seen.
  std::error_code finish();

  // True once the close delimiter has been parsed.
  bool done() const noexcept { return state_ == state::epilogue; }

  // Number of parts whose delimiter has been parsed so far.
  std::size_t part_count() const noexcept { return part_count_; }

 private:
  enum class state : std::uint8_t {
    preamble,
    body,
    after_boundary,
    after_boundary_dash,
    after_boundary_cr,
    padding,
    padding_cr,
    headers,
    epilogue,
    failed,
  };

  std::error_code scan_for_delimiter(std::string_view chunk, std::size_t& pos);
  std::error_code classify_after_boundary(char byte, std::size_t& pos);
  std::error_code read_headers(std::string_view chunk, std::size_t& pos);
  std::error_code complete_headers();
  std::error_code begin_part();
  std::error_code end_part();
  std::error_code emit_data(std::string_view data);
  std::error_code fail(std::error_code error);
  std::size_t match_length() const noexcept { return delimiter_.size() - 2; }

  multipart_handler& handler_;
  multipart_limits limits_;
  // CRLF "--" boundary "--": the first match_length() bytes are the delimiter searched for, and the
  // whole string supplies the bytes of a partial or rejected match when they turn out to be data.
  std::string delimiter_;
  state state_ = state::preamble;
  std::error_code error_;
  // Bytes of delimiter_ matched at the end of the previous chunk.
  std::size_t matched_ = 0;
  bool in_part_ = false;
  std::size_t part_count_ = 0;
  // Header lines of the current part separated by LF, CRLF removed.
  std::string header_block_;
  std::size_t header_bytes_ = 0;
  std::size_t header_line_length_ = 0;
  bool header_cr_ = false;
};

}  // namespace jobgate::gateway
