#include <catch2/catch.hpp>
#include <deque>
#include <string>
#include <vector>

#include "common/csv/text_decoder.hpp"

using namespace jobgate::csv;

namespace {

// Everything a decoder produced over a whole input: text, per-byte file offsets and bad offsets.
struct decoded_file {
  std::string text;
  std::vector<std::uint64_t> offsets;  // one per text byte, plus the end
  std::vector<std::uint64_t> invalid;
  text_encoding encoding = text_encoding::utf_8;

  bool operator==(const decoded_file&) const = default;
};

void append_piece(const decoded_text& piece, decoded_file& file) {
  file.text.append(piece.text);
  for (std::size_t i = 0; i < piece.text.size(); ++i) {
    file.offsets.push_back(piece.offset_at(i));
  }
}

decoded_file decode_split(std::string_view input, text_encoding requested,
                          const std::vector<std::size_t>& splits, std::uint64_t start_offset = 0) {
  text_decoder decoder(requested, start_offset);
  decoded_file file;
  std::size_t begin = 0;
  std::uint64_t end = start_offset;
  for (const std::size_t split : splits) {
    const decoded_text piece = decoder.decode(input.substr(begin, split - begin));
    append_piece(piece, file);
    begin = split;
  }
  const decoded_text last = decoder.decode(input.substr(begin));
  append_piece(last, file);
  const decoded_text tail = decoder.finish();
  append_piece(tail, file);
  end = tail.offset_at(tail.text.size());
  file.offsets.push_back(end);
  file.invalid.assign(decoder.invalid_offsets().begin(), decoder.invalid_offsets().end());
  file.encoding = decoder.encoding();
  return file;
}

decoded_file decode(std::string_view input, text_encoding requested) {
  return decode_split(input, requested, {});
}

void check_split_invariance(std::string_view input, text_encoding requested) {
  const decoded_file whole = decode(input, requested);
  for (std::size_t split = 0; split <= input.size(); ++split) {
    INFO("split at byte " << split);
    CHECK(decode_split(input, requested, {split}) == whole);
  }
  std::vector<std::size_t> every_byte;
  for (std::size_t i = 1; i < input.size(); ++i) {
    every_byte.push_back(i);
  }
  CHECK(decode_split(input, requested, every_byte) == whole);
}

std::string utf16le(std::u16string_view units) {
  std::string bytes;
  for (const char16_t unit : units) {
    bytes += static_cast<char>(unit & 0xFF);
    bytes += static_cast<char>(unit >> 8);
  }
  return bytes;
}

std::string utf16be(std::u16string_view units) {
  std::string bytes;
  for (const char16_t unit : units) {
    bytes += static_cast<char>(unit >> 8);
    bytes += static_cast<char>(unit & 0xFF);
  }
  return bytes;
}

}  // namespace

TEST_CASE("text_decoder strips a UTF-8 BOM", "[csv]") {
  const decoded_file file = decode(
      "\xEF\xBB\xBF"
      "email\r\n",
      text_encoding::utf_8);
  CHECK(file.text == "email\r\n");
  CHECK(file.offsets.front() == 3);
  CHECK(file.offsets.back() == 10);
  CHECK(file.invalid.empty());
}

TEST_CASE("text_decoder BOM overrides request", "[csv]") {
  const decoded_file file = decode(
      "\xEF\xBB\xBF"
      "M\xC3\xBC",
      text_encoding::windows_1252);
  CHECK(file.encoding == text_encoding::utf_8);
  CHECK(file.text == "M\xC3\xBC");

  const decoded_file utf16 = decode("\xFF\xFE" + utf16le(u"ab"), text_encoding::iso_8859_1);
  CHECK(utf16.encoding == text_encoding::utf_16le);
  CHECK(utf16.text == "ab");
}

TEST_CASE("text_decoder short BOM-like prefixes", "[csv]") {
  const decoded_file partial = decode("\xEF\xBB", text_encoding::utf_8);
  CHECK(partial.encoding == text_encoding::utf_8);
  CHECK(partial.text == "\xEF\xBB");
  CHECK(partial.invalid == std::vector<std::uint64_t>{0});

  const decoded_file not_bom = decode("\xEFx", text_encoding::windows_1252);
  CHECK(not_bom.text == "\xC3\xAFx");
  CHECK(decode("", text_encoding::utf_8).text.empty());
}

TEST_CASE("text_decoder reports invalid UTF-8 offsets", "[csv]") {
  const std::string input = "a,M\xFCller\n\xC3\xA9,\xE2\x82(\n\xF0\x9F\x98";
  const decoded_file file = decode(input, text_encoding::utf_8);
  CHECK(file.text == input);
  CHECK(file.invalid == std::vector<std::uint64_t>{3, 12, 16});
  check_split_invariance(input, text_encoding::utf_8);
  check_split_invariance("\xEF\xBB\xBF" + input, text_encoding::utf_8);
}

TEST_CASE("text_decoder maps windows-1252 offsets", "[csv]") {
  const std::string input = "rita,M\xFCller,Caf\xE9\r\n";
  const decoded_file file = decode(input, text_encoding::windows_1252);
  CHECK(file.text == "rita,M\xC3\xBCller,Caf\xC3\xA9\r\n");
  CHECK(file.invalid.empty());
  // The two bytes of u-umlaut both map to offset 6 of the file; 'l' after it to 7.
  CHECK(file.offsets[6] == 6);
  CHECK(file.offsets[7] == 6);
  CHECK(file.offsets[8] == 7);
  CHECK(file.offsets.back() == input.size());
  check_split_invariance(input, text_encoding::windows_1252);
  check_split_invariance(input, text_encoding::iso_8859_1);
}

TEST_CASE("text_decoder transcodes UTF-16 both orders", "[csv]") {
  const std::u16string units = u"e,\u00E9\u20AC\U0001F600\r\n";
  for (const bool little : {true, false}) {
    const std::string input = little ? "\xFF\xFE" + utf16le(units) : "\xFE\xFF" + utf16be(units);
    const decoded_file file = decode(input, text_encoding::utf_8);
    CHECK(file.encoding == (little ? text_encoding::utf_16le : text_encoding::utf_16be));
    CHECK(file.text == "e,\xC3\xA9\xE2\x82\xAC\xF0\x9F\x98\x80\r\n");
    CHECK(file.invalid.empty());
    CHECK(file.offsets[0] == 2);
    CHECK(file.offsets[2] == 6);    // e-acute
    CHECK(file.offsets[7] == 10);   // first byte of the emoji pair
    CHECK(file.offsets[10] == 10);  // last byte of the emoji
    CHECK(file.offsets.back() == input.size());
    check_split_invariance(input, text_encoding::utf_8);
  }
}

TEST_CASE("text_decoder flags lone UTF-16 surrogates", "[csv]") {
  // A high surrogate followed by a letter, a lone low surrogate, a high surrogate at the end,
  // then an odd final byte.
  const std::string input = "\xFF\xFE" +
                            utf16le(
                                u"a\xD800"
                                u"b\xDC00"
                                u"c\xD83D") +
                            "x";
  const decoded_file file = decode(input, text_encoding::utf_8);
  CHECK(file.invalid == std::vector<std::uint64_t>{4, 8, 12, 14});
  CHECK(file.offsets.back() == input.size());
  check_split_invariance(input, text_encoding::utf_8);
}

TEST_CASE("text_decoder resumes without BOM sniffing", "[csv]") {
  // Mid-file, bytes that look like a BOM are data.
  const decoded_file file = decode_split(
      "\xFF\xFE"
      "a",
      text_encoding::windows_1252, {}, 100);
  CHECK(file.text ==
        "\xC3\xBF\xC3\xBE"
        "a");
  CHECK(file.offsets.front() == 100);
  CHECK(file.offsets.back() == 103);
}
