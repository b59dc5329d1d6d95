#include "gateway/multipart_parser.hpp"

#include <algorithm>
#include <cstring>
#include <utility>

#include "gateway/multipart_error.hpp"

namespace jobgate::gateway {
namespace {

constexpr std::size_t max_boundary_length = 70;

bool is_ows(char c) {
  return c == ' ' || c == '\t';
}

bool is_alnum(char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

// RFC 9110 tchar, the characters of a token.
bool is_tchar(char c) {
  return is_alnum(c) || (c != '\0' && std::strchr("!#$%&'*+-.^_`|~", c) != nullptr);
}

// Control characters other than horizontal tab, which header values must not contain.
bool is_forbidden_control(char c) {
  const auto byte = static_cast<unsigned char>(c);
  return (byte < 0x20 && c != '\t') || byte == 0x7f;
}

// RFC 2046 bchars: the characters a boundary may contain.
bool is_bchar(char c) {
  return is_alnum(c) || (c != '\0' && std::strchr("'()+_,-./:=? ", c) != nullptr);
}

// RFC 8187 attr-char: the characters an ext-value may carry without percent-encoding.
bool is_attr_char(char c) {
  return is_alnum(c) || (c != '\0' && std::strchr("!#$&+-.^_`|~", c) != nullptr);
}

char to_lower_ascii(char c) {
  return (c >= 'A' && c <= 'Z') ? static_cast<char>(c + 32) : c;
}

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return to_lower_ascii(x) == to_lower_ascii(y);
         });
}

bool is_valid_boundary(std::string_view boundary) {
  return !boundary.empty() && boundary.size() <= max_boundary_length &&
         std::all_of(boundary.begin(), boundary.end(), is_bchar) && boundary.back() != ' ';
}

std::string_view trim_ows(std::string_view text) {
  while (!text.empty() && is_ows(text.front())) {
    text.remove_prefix(1);
  }
  while (!text.empty() && is_ows(text.back())) {
    text.remove_suffix(1);
  }
  return text;
}

void skip_ows(std::string_view text, std::size_t& pos) {
  while (pos < text.size() && is_ows(text[pos])) {
    ++pos;
  }
}

std::string_view read_token(std::string_view text, std::size_t& pos) {
  const std::size_t start = pos;
  while (pos < text.size() && is_tchar(text[pos])) {
    ++pos;
  }
  return text.substr(start, pos - start);
}

// Reads a quoted-string starting at the opening quote and removes its quoted-pair escapes.
bool read_quoted_string(std::string_view text, std::size_t& pos, std::string& out) {
  ++pos;
  while (pos < text.size()) {
    char c = text[pos++];
    if (c == '"') {
      return true;
    }
    if (c == '\\') {
      if (pos == text.size()) {
        return false;
      }
      c = text[pos++];
    }
    if (is_forbidden_control(c)) {
      return false;
    }
    out.push_back(c);
  }
  return false;
}

struct parameter {
  std::string_view name;
  std::string value;
};

// Parses `*( OWS ";" OWS name "=" value )`, where a value is a quoted-string or a run of
// characters up to whitespace or ";". The unquoted form is wider than a token because some
// clients send boundaries such as `----=_Part_1` without quotes. Empty list elements are skipped.
bool parse_parameters(std::string_view text, std::size_t pos, std::vector<parameter>& out) {
  while (true) {
    skip_ows(text, pos);
    if (pos == text.size()) {
      return true;
    }
    if (text[pos] != ';') {
      return false;
    }
    ++pos;
    skip_ows(text, pos);
    if (pos == text.size() || text[pos] == ';') {
      continue;
    }

    parameter param;
    param.name = read_token(text, pos);
    if (param.name.empty() || pos == text.size() || text[pos] != '=') {
      return false;
    }
    ++pos;
    if (pos < text.size() && text[pos] == '"') {
      if (!read_quoted_string(text, pos, param.value)) {
        return false;
      }
    } else {
      const std::size_t start = pos;
      while (pos < text.size() && text[pos] != ';' && text[pos] != '"' && !is_ows(text[pos]) &&
             !is_forbidden_control(text[pos])) {
        ++pos;
      }
      if (pos == start) {
        return false;
      }
      param.value.assign(text.substr(start, pos - start));
    }
    out.push_back(std::move(param));
  }
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') {
    return c - '0';
  }
  c = to_lower_ascii(c);
  if (c >= 'a' && c <= 'f') {
    return c - 'a' + 10;
  }
  return -1;
}

// Checks well-formed UTF-8: no overlong forms, surrogates or code points above U+10FFFF.
bool is_valid_utf8(std::string_view text) {
  std::size_t i = 0;
  while (i < text.size()) {
    const auto lead = static_cast<unsigned char>(text[i]);
    std::size_t length = 0;
    unsigned min_second = 0x80;
    unsigned max_second = 0xbf;
    if (lead < 0x80) {
      ++i;
      continue;
    } else if (lead >= 0xc2 && lead <= 0xdf) {
      length = 2;
    } else if (lead >= 0xe0 && lead <= 0xef) {
      length = 3;
      min_second = lead == 0xe0 ? 0xa0 : 0x80;
      max_second = lead == 0xed ? 0x9f : 0xbf;
    } else if (lead >= 0xf0 && lead <= 0xf4) {
      length = 4;
      min_second = lead == 0xf0 ? 0x90 : 0x80;
      max_second = lead == 0xf4 ? 0x8f : 0xbf;
    } else {
      return false;
    }
    if (text.size() - i < length) {
      return false;
    }
    const auto second = static_cast<unsigned char>(text[i + 1]);
    if (second < min_second || second > max_second) {
      return false;
    }
    for (std::size_t k = 2; k < length; ++k) {
      const auto next = static_cast<unsigned char>(text[i + k]);
      if (next < 0x80 || next > 0xbf) {
        return false;
      }
    }
    i += length;
  }
  return true;
}

// Decodes an RFC 8187 ext-value (charset "'" [language] "'" value-chars) into UTF-8.
bool decode_ext_value(std::string_view raw, std::string& out) {
  const std::size_t first_quote = raw.find('\'');
  if (first_quote == std::string_view::npos) {
    return false;
  }
  const std::size_t second_quote = raw.find('\'', first_quote + 1);
  if (second_quote == std::string_view::npos) {
    return false;
  }
  const std::string_view charset = raw.substr(0, first_quote);
  const std::string_view encoded = raw.substr(second_quote + 1);

  std::string bytes;
  for (std::size_t i = 0; i < encoded.size(); ++i) {
    if (encoded[i] == '%') {
      if (encoded.size() - i < 3) {
        return false;
      }
      const int high = hex_value(encoded[i + 1]);
      const int low = hex_value(encoded[i + 2]);
      if (high < 0 || low < 0) {
        return false;
      }
      bytes.push_back(static_cast<char>(high * 16 + low));
      i += 2;
    } else if (is_attr_char(encoded[i])) {
      bytes.push_back(encoded[i]);
    } else {
      return false;
    }
  }

  if (iequals(charset, "UTF-8")) {
    if (!is_valid_utf8(bytes)) {
      return false;
    }
    out = std::move(bytes);
    return true;
  }
  if (iequals(charset, "ISO-8859-1")) {
    out.clear();
    for (const char c : bytes) {
      const auto byte = static_cast<unsigned char>(c);
      if (byte < 0x80) {
        out.push_back(c);
      } else {
        out.push_back(static_cast<char>(0xc0 | (byte >> 6)));
        out.push_back(static_cast<char>(0x80 | (byte & 0x3f)));
      }
    }
    return true;
  }
  return false;
}

// Fills name and filename from a Content-Disposition value. The name parameter is required, a
// repeated parameter is rejected as ambiguous, and filename* wins over filename (RFC 6266 4.3).
std::error_code parse_content_disposition(std::string_view value, multipart_part_headers& out) {
  const auto invalid = make_error_code(multipart_error::invalid_content_disposition);
  std::size_t pos = 0;
  const std::string_view type = read_token(value, pos);
  if (!iequals(type, "form-data")) {
    return invalid;
  }
  std::vector<parameter> params;
  if (!parse_parameters(value, pos, params)) {
    return invalid;
  }

  std::optional<std::string> name;
  std::optional<std::string> plain_filename;
  std::optional<std::string> extended_filename;
  for (auto& param : params) {
    std::optional<std::string>* target = nullptr;
    if (iequals(param.name, "name")) {
      target = &name;
    } else if (iequals(param.name, "filename")) {
      target = &plain_filename;
    } else if (iequals(param.name, "filename*")) {
      target = &extended_filename;
      std::string decoded;
      if (!decode_ext_value(param.value, decoded)) {
        return invalid;
      }
      param.value = std::move(decoded);
    } else {
      continue;
    }
    if (target->has_value()) {
      return invalid;
    }
    *target = std::move(param.value);
  }

  if (!name) {
    return invalid;
  }
  out.name = std::move(*name);
  out.filename = extended_filename ? std::move(extended_filename) : std::move(plain_filename);
  return {};
}

// Splits a header block (lines separated by LF) into fields and interprets the ones the parser
// needs. Lines starting with a space or tab continue the previous field (RFC 5322 folding).
std::error_code parse_header_block(std::string_view block, multipart_part_headers& out) {
  const auto malformed = make_error_code(multipart_error::malformed_header);
  while (!block.empty()) {
    const std::size_t line_end = std::min(block.find('\n'), block.size());
    const std::string_view line = block.substr(0, line_end);
    block.remove_prefix(std::min(line_end + 1, block.size()));

    if (std::any_of(line.begin(), line.end(), is_forbidden_control)) {
      return malformed;
    }
    if (is_ows(line.front())) {
      if (out.fields.empty()) {
        return malformed;
      }
      out.fields.back().value.append(line);
      continue;
    }
    const std::size_t colon = line.find(':');
    if (colon == 0 || colon == std::string_view::npos ||
        !std::all_of(line.begin(), line.begin() + colon, is_tchar)) {
      return malformed;
    }
    out.fields.push_back({std::string(line.substr(0, colon)), std::string(line.substr(colon + 1))});
  }

  const multipart_header_field* disposition = nullptr;
  const multipart_header_field* content_type = nullptr;
  const multipart_header_field* transfer_encoding = nullptr;
  for (auto& field : out.fields) {
    field.value = std::string(trim_ows(field.value));
    const multipart_header_field** slot = nullptr;
    if (iequals(field.name, "Content-Disposition")) {
      slot = &disposition;
    } else if (iequals(field.name, "Content-Type")) {
      slot = &content_type;
    } else if (iequals(field.name, "Content-Transfer-Encoding")) {
      slot = &transfer_encoding;
    } else {
      continue;
    }
    if (*slot != nullptr) {
      return make_error_code(multipart_error::duplicate_header);
    }
    *slot = &field;
  }

  if (disposition == nullptr) {
    return make_error_code(multipart_error::invalid_content_disposition);
  }
  if (auto error = parse_content_disposition(disposition->value, out)) {
    return error;
  }
  if (content_type != nullptr) {
    out.content_type = content_type->value;
  }
  // Decoding base64 or quoted-printable would hide the deprecated encoding from the handler, and
  // passing the encoded bytes on would store them as if they were the file.
  if (transfer_encoding != nullptr && !iequals(transfer_encoding->value, "binary") &&
      !iequals(transfer_encoding->value, "8bit") && !iequals(transfer_encoding->value, "7bit")) {
    return make_error_code(multipart_error::unsupported_transfer_encoding);
  }
  return {};
}

}  // namespace

std::optional<std::string> multipart_boundary(std::string_view content_type) {
  content_type = trim_ows(content_type);
  std::size_t pos = 0;
  const std::string_view type = read_token(content_type, pos);
  if (pos == content_type.size() || content_type[pos] != '/') {
    return std::nullopt;
  }
  ++pos;
  const std::string_view subtype = read_token(content_type, pos);
  if (!iequals(type, "multipart") || !iequals(subtype, "form-data")) {
    return std::nullopt;
  }

  std::vector<parameter> params;
  if (!parse_parameters(content_type, pos, params)) {
    return std::nullopt;
  }
  std::optional<std::string> boundary;
  for (auto& param : params) {
    if (!iequals(param.name, "boundary")) {
      continue;
    }
    if (boundary) {
      return std::nullopt;
    }
    boundary = std::move(param.value);
  }
  if (!boundary || !is_valid_boundary(*boundary)) {
    return std::nullopt;
  }
  return boundary;
}

multipart_parser::multipart_parser(std::string_view boundary, multipart_handler& handler,
                                   multipart_limits limits)
    : handler_(handler), limits_(limits) {
  delimiter_.reserve(boundary.size() + 6);
  delimiter_.append("\r\n--").append(boundary).append("--");
  if (!is_valid_boundary(boundary)) {
    state_ = state::failed;
    error_ = make_error_code(multipart_error::invalid_boundary);
    return;
  }
  // The body may open with the delimiter itself, so the scan starts as if a CRLF preceded it.
  matched_ = 2;
}

std::error_code multipart_parser::feed(std::string_view chunk) {
  std::size_t pos = 0;
  while (pos < chunk.size()) {
    std::error_code error;
    switch (state_) {
      case state::preamble:
      case state::body:
        error = scan_for_delimiter(chunk, pos);
        break;
      case state::headers:
        error = read_headers(chunk, pos);
        break;
      case state::after_boundary:
      case state::after_boundary_dash:
      case state::after_boundary_cr:
      case state::padding:
      case state::padding_cr:
        error = classify_after_boundary(chunk[pos], pos);
        break;
      case state::epilogue:
        return {};
      case state::failed:
        return error_;
    }
    if (error) {
      return fail(error);
    }
  }
  return state_ == state::failed ? error_ : std::error_code{};
}

std::error_code multipart_parser::finish() {
  if (state_ == state::failed) {
    return error_;
  }
  if (state_ == state::epilogue) {
    return {};
  }
  return fail(make_error_code(multipart_error::missing_closing_boundary));
}

// Searches the chunk for CRLF "--" boundary and passes the bytes before it on as part data. Only
// CR can start a match, and CR occurs nowhere else in the delimiter because a boundary cannot
// contain it. So a partial match that fails contains no other match start, and the bytes it covered
// are exactly delimiter_'s prefix, which is why part data is never copied.
std::error_code multipart_parser::scan_for_delimiter(std::string_view chunk, std::size_t& pos) {
  const std::size_t length = match_length();
  std::size_t data_start = pos;

  // Continue a match that the previous chunk ended in.
  if (matched_ > 0) {
    const std::size_t compare = std::min(length - matched_, chunk.size() - pos);
    std::size_t i = 0;
    while (i < compare && chunk[pos + i] == delimiter_[matched_ + i]) {
      ++i;
    }
    if (i == compare) {
      pos += i;
      if (matched_ + i == length) {
        matched_ = 0;
        state_ = state::after_boundary;
      } else {
        matched_ += i;
      }
      return {};
    }
    const std::string_view held(delimiter_.data(), matched_);
    matched_ = 0;
    if (auto error = emit_data(held)) {
      return error;
    }
    // The byte that broke the match may itself be a CR that starts a new one.
    pos += i;
  }

  while (true) {
    const void* found = std::memchr(chunk.data() + pos, '\r', chunk.size() - pos);
    if (found == nullptr) {
      pos = chunk.size();
      return emit_data(chunk.substr(data_start));
    }
    const std::size_t at = static_cast<std::size_t>(static_cast<const char*>(found) - chunk.data());
    const std::size_t compare = std::min(length, chunk.size() - at);
    if (std::memcmp(chunk.data() + at, delimiter_.data(), compare) == 0) {
      if (auto error = emit_data(chunk.substr(data_start, at - data_start))) {
        return error;
      }
      if (compare == length) {
        pos = at + length;
        state_ = state::after_boundary;
      } else {
        matched_ = compare;
        pos = chunk.size();
      }
      return {};
    }
    pos = at + 1;
  }
}

// Decides, one byte at a time, whether a matched CRLF "--" boundary is a delimiter. When it is
// not, the matched bytes are data again and scanning resumes at the byte that decided it.
std::error_code multipart_parser::classify_after_boundary(char byte, std::size_t& pos) {
  const std::size_t length = match_length();
  const state scan_state = in_part_ ? state::body : state::preamble;

  switch (state_) {
    case state::after_boundary:
      if (byte == '-') {
        state_ = state::after_boundary_dash;
      } else if (byte == '\r') {
        state_ = state::after_boundary_cr;
      } else if (is_ows(byte)) {
        state_ = state::padding;
      } else {
        state_ = scan_state;
        return emit_data(std::string_view(delimiter_.data(), length));
      }
      ++pos;
      return {};

    case state::after_boundary_dash:
      if (byte == '-') {
        ++pos;
        state_ = state::epilogue;
        return in_part_ ? end_part() : std::error_code{};
      }
      state_ = scan_state;
      return emit_data(std::string_view(delimiter_.data(), length + 1));

    case state::after_boundary_cr:
      if (byte == '\n') {
        ++pos;
        return begin_part();
      }
      // The CR after the boundary may start the next delimiter, so it is held as a match of one.
      state_ = scan_state;
      matched_ = 1;
      return emit_data(std::string_view(delimiter_.data(), length));

    case state::padding:
      if (byte == '\r') {
        state_ = state::padding_cr;
      } else if (!is_ows(byte)) {
        return make_error_code(multipart_error::malformed_delimiter);
      }
      ++pos;
      return {};

    case state::padding_cr:
      if (byte != '\n') {
        return make_error_code(multipart_error::malformed_delimiter);
      }
      ++pos;
      return begin_part();

    default:
      return {};
  }
}

// Collects the header block up to the empty line, rejecting a bare CR or LF as it arrives so that
// neither the limit check nor the error waits for the end of the block.
std::error_code multipart_parser::read_headers(std::string_view chunk, std::size_t& pos) {
  const auto malformed = make_error_code(multipart_error::malformed_header);
  std::size_t copy_from = pos;

  while (pos < chunk.size()) {
    const char byte = chunk[pos];
    if (++header_bytes_ > limits_.max_header_bytes) {
      return make_error_code(multipart_error::header_too_large);
    }
    ++pos;

    if (header_cr_) {
      if (byte != '\n') {
        return malformed;
      }
      header_cr_ = false;
      if (header_line_length_ == 0) {
        return complete_headers();
      }
      header_line_length_ = 0;
      header_block_.push_back('\n');
      copy_from = pos;
    } else if (byte == '\r') {
      header_block_.append(chunk.substr(copy_from, pos - 1 - copy_from));
      copy_from = pos;
      header_cr_ = true;
    } else if (byte == '\n') {
      return malformed;
    } else {
      ++header_line_length_;
    }
  }
  header_block_.append(chunk.substr(copy_from, pos - copy_from));
  return {};
}

std::error_code multipart_parser::complete_headers() {
  std::string_view block = header_block_;
  if (!block.empty()) {
    block.remove_suffix(1);
  }
  multipart_part_headers headers;
  if (auto error = parse_header_block(block, headers)) {
    return error;
  }
  in_part_ = true;
  matched_ = 0;
  state_ = state::body;
  return handler_.on_part_begin(headers);
}

std::error_code multipart_parser::begin_part() {
  if (in_part_) {
    if (auto error = end_part()) {
      return error;
    }
  }
  if (part_count_ == limits_.max_parts) {
    return make_error_code(multipart_error::too_many_parts);
  }
  ++part_count_;
  header_block_.clear();
  header_bytes_ = 0;
  header_line_length_ = 0;
  header_cr_ = false;
  state_ = state::headers;
  return {};
}

std::error_code multipart_parser::end_part() {
  in_part_ = false;
  return handler_.on_part_end();
}

std::error_code multipart_parser::emit_data(std::string_view data) {
  if (!in_part_ || data.empty()) {
    return {};
  }
  return handler_.on_part_data(data);
}

std::error_code multipart_parser::fail(std::error_code error) {
  state_ = state::failed;
  error_ = error;
  return error;
}

}  // namespace jobgate::gateway
