#include "common/csv/text_encoding.hpp"

#include <array>
#include <cstring>

namespace jobgate::csv {
namespace {

// Code points of windows-1252 bytes 0x80..0x9F; the rest of the range matches ISO-8859-1.
constexpr std::array<char16_t, 32> windows_1252_high = {
    0x20AC, 0x0081, 0x201A, 0x0192, 0x201E, 0x2026, 0x2020, 0x2021, 0x02C6, 0x2030, 0x0160,
    0x2039, 0x0152, 0x008D, 0x017D, 0x008F, 0x0090, 0x2018, 0x2019, 0x201C, 0x201D, 0x2022,
    0x2013, 0x2014, 0x02DC, 0x2122, 0x0161, 0x203A, 0x0153, 0x009D, 0x017E, 0x0178,
};

bool ascii_equal_ignoring_case(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) {
    return false;
  }
  for (std::size_t i = 0; i < a.size(); ++i) {
    char x = a[i];
    char y = b[i];
    if (x >= 'A' && x <= 'Z') {
      x = static_cast<char>(x - 'A' + 'a');
    }
    if (y >= 'A' && y <= 'Z') {
      y = static_cast<char>(y - 'A' + 'a');
    }
    if (x != y) {
      return false;
    }
  }
  return true;
}

// Length of the ASCII run at the start of `text`, checked eight bytes at a time.
std::size_t ascii_prefix_length(std::string_view text) {
  std::size_t i = 0;
  for (; i + 8 <= text.size(); i += 8) {
    std::uint64_t word;
    std::memcpy(&word, text.data() + i, 8);
    if ((word & 0x8080808080808080ULL) != 0) {
      break;
    }
  }
  while (i < text.size() && static_cast<unsigned char>(text[i]) < 0x80) {
    ++i;
  }
  return i;
}

void append_hex_escape(unsigned char byte, std::string& out) {
  constexpr std::string_view digits = "0123456789ABCDEF";
  out += "\\x";
  out += digits[byte >> 4];
  out += digits[byte & 0x0F];
}

}  // namespace

std::string_view to_string(text_encoding encoding) {
  switch (encoding) {
    case text_encoding::utf_8:
      return "utf-8";
    case text_encoding::windows_1252:
      return "windows-1252";
    case text_encoding::iso_8859_1:
      return "iso-8859-1";
    case text_encoding::utf_16le:
      return "utf-16le";
    case text_encoding::utf_16be:
      return "utf-16be";
  }
  return "unknown";
}

std::optional<text_encoding> parse_text_encoding(std::string_view name) {
  for (auto encoding :
       {text_encoding::utf_8, text_encoding::windows_1252, text_encoding::iso_8859_1,
        text_encoding::utf_16le, text_encoding::utf_16be}) {
    if (ascii_equal_ignoring_case(name, to_string(encoding))) {
      return encoding;
    }
  }
  return std::nullopt;
}

std::optional<byte_order_mark> detect_byte_order_mark(std::string_view prefix) {
  if (prefix.starts_with("\xEF\xBB\xBF")) {
    return byte_order_mark{text_encoding::utf_8, 3};
  }
  if (prefix.starts_with("\xFF\xFE")) {
    return byte_order_mark{text_encoding::utf_16le, 2};
  }
  if (prefix.starts_with("\xFE\xFF")) {
    return byte_order_mark{text_encoding::utf_16be, 2};
  }
  return std::nullopt;
}

utf8_sequence classify_utf8_sequence(std::string_view text) {
  using status = utf8_sequence::status;
  const auto lead = static_cast<unsigned char>(text[0]);
  if (lead < 0x80) {
    return {status::valid, 1};
  }

  // The lead byte fixes the length and the allowed range of the second byte.
  std::size_t length = 0;
  unsigned char second_min = 0x80;
  unsigned char second_max = 0xBF;
  if (lead >= 0xC2 && lead <= 0xDF) {
    length = 2;
  } else if (lead >= 0xE0 && lead <= 0xEF) {
    length = 3;
    if (lead == 0xE0) {
      second_min = 0xA0;  // shorter forms are overlong
    } else if (lead == 0xED) {
      second_max = 0x9F;  // U+D800..U+DFFF are surrogates
    }
  } else if (lead >= 0xF0 && lead <= 0xF4) {
    length = 4;
    if (lead == 0xF0) {
      second_min = 0x90;
    } else if (lead == 0xF4) {
      second_max = 0x8F;  // nothing above U+10FFFF
    }
  } else {
    return {status::invalid, 1};
  }

  for (std::size_t i = 1; i < length; ++i) {
    if (i >= text.size()) {
      return {status::truncated, i};
    }
    const auto byte = static_cast<unsigned char>(text[i]);
    const unsigned char min = i == 1 ? second_min : 0x80;
    const unsigned char max = i == 1 ? second_max : 0xBF;
    if (byte < min || byte > max) {
      return {status::invalid, i};
    }
  }
  return {status::valid, length};
}

std::optional<std::size_t> find_invalid_utf8(std::string_view text) {
  std::size_t i = 0;
  while (i < text.size()) {
    i += ascii_prefix_length(text.substr(i));
    if (i >= text.size()) {
      break;
    }
    const utf8_sequence sequence = classify_utf8_sequence(text.substr(i));
    if (sequence.state != utf8_sequence::status::valid) {
      return i;
    }
    i += sequence.length;
  }
  return std::nullopt;
}

void append_escaped_utf8(std::string_view text, std::string& out) {
  std::size_t i = 0;
  while (i < text.size()) {
    const std::size_t ascii = ascii_prefix_length(text.substr(i));
    out.append(text.data() + i, ascii);
    i += ascii;
    if (i >= text.size()) {
      break;
    }
    const utf8_sequence sequence = classify_utf8_sequence(text.substr(i));
    if (sequence.state == utf8_sequence::status::valid) {
      out.append(text.data() + i, sequence.length);
    } else {
      for (std::size_t k = 0; k < sequence.length; ++k) {
        append_hex_escape(static_cast<unsigned char>(text[i + k]), out);
      }
    }
    i += sequence.length;
  }
}

std::string escape_invalid_utf8(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  append_escaped_utf8(text, out);
  return out;
}

void append_code_point_as_utf8(char32_t code_point, std::string& out) {
  if (code_point < 0x80) {
    out += static_cast<char>(code_point);
  } else if (code_point < 0x800) {
    out += static_cast<char>(0xC0 | (code_point >> 6));
    out += static_cast<char>(0x80 | (code_point & 0x3F));
  } else if (code_point < 0x10000) {
    out += static_cast<char>(0xE0 | (code_point >> 12));
    out += static_cast<char>(0x80 | ((code_point >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (code_point & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (code_point >> 18));
    out += static_cast<char>(0x80 | ((code_point >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((code_point >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (code_point & 0x3F));
  }
}

char32_t windows_1252_code_point(unsigned char byte) {
  if (byte >= 0x80 && byte < 0xA0) {
    return windows_1252_high[byte - 0x80];
  }
  return byte;
}

void append_windows_1252_as_utf8(std::string_view text, std::string& out) {
  for (const char c : text) {
    const auto byte = static_cast<unsigned char>(c);
    if (byte < 0x80) {
      out += c;
    } else {
      append_code_point_as_utf8(windows_1252_code_point(byte), out);
    }
  }
}

void append_iso_8859_1_as_utf8(std::string_view text, std::string& out) {
  for (const char c : text) {
    const auto byte = static_cast<unsigned char>(c);
    if (byte < 0x80) {
      out += c;
    } else {
      append_code_point_as_utf8(byte, out);
    }
  }
}

}  // namespace jobgate::csv
