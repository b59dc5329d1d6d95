#include <catch2/catch.hpp>
#include <string>

#include "common/csv/text_encoding.hpp"

using namespace jobgate::csv;

TEST_CASE("find_invalid_utf8 accepts valid text", "[csv]") {
  CHECK_FALSE(find_invalid_utf8(""));
  CHECK_FALSE(find_invalid_utf8("plain ascii, 123"));
  CHECK_FALSE(find_invalid_utf8("caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80 \xF4\x8F\xBF\xBF"));
  CHECK_FALSE(find_invalid_utf8("\xED\x9F\xBF \xEE\x80\x80"));  // U+D7FF and U+E000
  CHECK_FALSE(find_invalid_utf8(std::string("nul\0inside", 10)));
}

TEST_CASE("find_invalid_utf8 locates first bad byte", "[csv]") {
  CHECK(find_invalid_utf8("M\xFCller") == 1u);
  CHECK(find_invalid_utf8("ab\x80") == 2u);            // lone continuation byte
  CHECK(find_invalid_utf8("a\xC0\x80") == 1u);         // overlong NUL
  CHECK(find_invalid_utf8("\xC1\xBF") == 0u);          // overlong
  CHECK(find_invalid_utf8("x\xE0\x80\x80") == 1u);     // overlong 3-byte
  CHECK(find_invalid_utf8("xy\xED\xA0\x80") == 2u);    // surrogate U+D800
  CHECK(find_invalid_utf8("\xF0\x80\x80\x80") == 0u);  // overlong 4-byte
  CHECK(find_invalid_utf8("\xF4\x90\x80\x80") == 0u);  // above U+10FFFF
  CHECK(find_invalid_utf8("ok\xF5\x80\x80\x80") == 2u);
  CHECK(find_invalid_utf8("Caf\xE9 Central") == 3u);  // windows-1252 e-acute
  CHECK(find_invalid_utf8("end\xE2\x82") == 3u);      // truncated at the end
  CHECK(find_invalid_utf8("\xC3\xA9\xC3") == 2u);
}

TEST_CASE("classify_utf8_sequence reports lengths", "[csv]") {
  using status = utf8_sequence::status;
  CHECK(classify_utf8_sequence("a").state == status::valid);
  CHECK(classify_utf8_sequence("\xE2\x82\xAC").length == 3);
  CHECK(classify_utf8_sequence("\xE2\x82").state == status::truncated);
  CHECK(classify_utf8_sequence("\xE2\x82").length == 2);
  const utf8_sequence bad = classify_utf8_sequence("\xE2\x82(");
  CHECK(bad.state == status::invalid);
  CHECK(bad.length == 2);  // the maximal subpart: lead and one valid continuation byte
  CHECK(classify_utf8_sequence("\xFF").length == 1);
}

TEST_CASE("escape_invalid_utf8 shows bad bytes", "[csv]") {
  CHECK(escape_invalid_utf8("M\xFCller") == "M\\xFCller");
  CHECK(escape_invalid_utf8("caf\xC3\xA9") == "caf\xC3\xA9");
  CHECK(escape_invalid_utf8("\xE2\x82(x") == "\\xE2\\x82(x");
  CHECK(escape_invalid_utf8("\xED\xA0\x80") == "\\xED\\xA0\\x80");
  CHECK(escape_invalid_utf8("end\xC3") == "end\\xC3");
  CHECK_FALSE(find_invalid_utf8(escape_invalid_utf8("\x80\x81\xFE\xFF mixed \xC3\xA9")));
}

TEST_CASE("detect_byte_order_mark finds marks", "[csv]") {
  const auto utf8 = detect_byte_order_mark(
      "\xEF\xBB\xBF"
      "a");
  REQUIRE(utf8);
  CHECK(utf8->encoding == text_encoding::utf_8);
  CHECK(utf8->length == 3);
  const auto le = detect_byte_order_mark(
      "\xFF\xFE"
      "a");
  REQUIRE(le);
  CHECK(le->encoding == text_encoding::utf_16le);
  CHECK(le->length == 2);
  const auto be = detect_byte_order_mark("\xFE\xFF");
  REQUIRE(be);
  CHECK(be->encoding == text_encoding::utf_16be);
  CHECK_FALSE(detect_byte_order_mark("\xEF\xBB"));
  CHECK_FALSE(detect_byte_order_mark("email"));
  CHECK_FALSE(detect_byte_order_mark(""));
}

TEST_CASE("single-byte encodings transcode to UTF-8", "[csv]") {
  std::string out;
  append_windows_1252_as_utf8("M\xFCller Caf\xE9 \x80 \x93q\x94 \x81", out);
  CHECK(out == "M\xC3\xBCller Caf\xC3\xA9 \xE2\x82\xAC \xE2\x80\x9Cq\xE2\x80\x9D \xC2\x81");
  out.clear();
  append_iso_8859_1_as_utf8("\xFC\x80\xFF", out);
  CHECK(out == "\xC3\xBC\xC2\x80\xC3\xBF");
  CHECK(windows_1252_code_point(0x9F) == 0x0178);
  CHECK(windows_1252_code_point(0x41) == 0x41);
  for (int byte = 0; byte < 256; ++byte) {
    std::string encoded;
    append_windows_1252_as_utf8(std::string(1, static_cast<char>(byte)), encoded);
    CHECK_FALSE(find_invalid_utf8(encoded));
  }
}

TEST_CASE("append_code_point_as_utf8 encodes ranges", "[csv]") {
  std::string out;
  for (const char32_t code_point : {U'\x41', U'\xE9', U'\x20AC', U'\x1F600'}) {
    append_code_point_as_utf8(code_point, out);
  }
  CHECK(out == "A\xC3\xA9\xE2\x82\xAC\xF0\x9F\x98\x80");
  out.clear();
  append_code_point_as_utf8(0xD800, out);  // a lone surrogate stays detectable
  CHECK(find_invalid_utf8(out) == 0u);
}

TEST_CASE("text_encoding names parse back", "[csv]") {
  CHECK(parse_text_encoding("utf-8") == text_encoding::utf_8);
  CHECK(parse_text_encoding("Windows-1252") == text_encoding::windows_1252);
  CHECK(parse_text_encoding("iso-8859-1") == text_encoding::iso_8859_1);
  CHECK_FALSE(parse_text_encoding("latin9"));
  CHECK(to_string(text_encoding::utf_16be) == "utf-16be");
}
