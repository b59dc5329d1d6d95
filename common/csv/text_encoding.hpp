#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace jobgate::csv {

// Character encodings an uploaded file may use. UTF-16 is chosen only by a byte-order mark.
enum class text_encoding { utf_8, windows_1252, iso_8859_1, utf_16le, utf_16be };

// Returns the name used in import requests ("utf-8", "windows-1252", "iso-8859-1") or, for
// UTF-16, "utf-16le" / "utf-16be".
std::string_view to_string(text_encoding encoding);

// Parses an encoding name as to_string() writes it, ignoring ASCII case.
std::optional<text_encoding> parse_text_encoding(std::string_view name);

// A byte-order mark found at the start of a file.
struct byte_order_mark {
  text_encoding encoding;
  std::size_t length;
};

// Detects a UTF-8, UTF-16LE or UTF-16BE byte-order mark at the start of `prefix`. Returns
// nullopt when there is none. A prefix shorter than 3 bytes is only conclusive for the whole file.
std::optional<byte_order_mark> detect_byte_order_mark(std::string_view prefix);

// Result of classifying the UTF-8 sequence at the start of a byte range.
struct utf8_sequence {
  enum class status : std::uint8_t { valid, invalid, truncated };
  status state;
  // Bytes in the sequence when valid, in its maximal ill-formed subpart when invalid (at least 1),
  // or bytes present when truncated (the range ended inside a sequence that may still complete).
  std::size_t length;
};

// Classifies the sequence that starts at text[0] (text must not be empty) by the Unicode table of
// well-formed UTF-8 byte sequences: no overlong forms, no surrogates, nothing above U+10FFFF.
utf8_sequence classify_utf8_sequence(std::string_view text);

// Returns the offset of the first byte of the first ill-formed sequence, or nullopt when `text`
// is valid UTF-8. A sequence cut off by the end of `text` counts as ill-formed.
std::optional<std::size_t> find_invalid_utf8(std::string_view text);

// Appends `text` to `out`, writing each byte of an ill-formed sequence as a `\xFC` escape, so the
// result is always valid UTF-8 and no byte is hidden behind U+FFFD.
void append_escaped_utf8(std::string_view text, std::string& out);

// Returns `text` with ill-formed bytes escaped as append_escaped_utf8() does.
std::string escape_invalid_utf8(std::string_view text);

// Appends `code_point` encoded as UTF-8. Surrogates are written in their 3-byte form, which is
// ill-formed UTF-8, so a lone UTF-16 surrogate stays visible to validation.
void append_code_point_as_utf8(char32_t code_point, std::string& out);

// Returns the code point of a windows-1252 byte. The five bytes that windows-1252 leaves undefined
// (0x81, 0x8D, 0x8F, 0x90, 0x9D) map to the C1 control of the same value, as the WHATWG Encoding
// Standard does.
char32_t windows_1252_code_point(unsigned char byte);

void append_windows_1252_as_utf8(std::string_view text, std::string& out);

// Appends ISO-8859-1 text as UTF-8: every byte is the code point of the same value.
void append_iso_8859_1_as_utf8(std::string_view text, std::string& out);

}  // namespace jobgate::csv
