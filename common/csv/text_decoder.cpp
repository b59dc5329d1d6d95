#include "common/csv/text_decoder.hpp"

#include <algorithm>

namespace jobgate::csv {
namespace {

bool is_high_surrogate(char32_t unit) {
  return unit >= 0xD800 && unit <= 0xDBFF;
}
bool is_low_surrogate(char32_t unit) {
  return unit >= 0xDC00 && unit <= 0xDFFF;
}

// True while `prefix` could still grow into a byte-order mark.
bool may_start_byte_order_mark(std::string_view prefix) {
  for (std::string_view bom : {"\xEF\xBB\xBF", "\xFF\xFE", "\xFE\xFF"}) {
    if (prefix.size() < bom.size() && bom.starts_with(prefix)) {
      return true;
    }
  }
  return false;
}

bool is_ascii(std::string_view bytes) {
  return std::none_of(bytes.begin(), bytes.end(),
                      [](char c) { return static_cast<unsigned char>(c) >= 0x80; });
}

}  // namespace

text_decoder::text_decoder(text_encoding encoding, std::uint64_t start_offset,
                           utf8_validation validation)
    : encoding_(encoding),
      validation_(validation),
      decided_(start_offset != 0),
      offset_(start_offset) {}

decoded_text text_decoder::decode(std::string_view bytes) {
  if (decided_) {
    if (!sniffed_.empty()) {
      std::string().swap(sniffed_);  // the previous result no longer views it
    }
    return decode_decided(bytes);
  }

  sniffed_.append(bytes);
  const auto bom = detect_byte_order_mark(sniffed_);
  if (!bom && may_start_byte_order_mark(sniffed_)) {
    return decoded_text{{}, {}, offset_};
  }
  decided_ = true;
  if (bom) {
    encoding_ = bom->encoding;
    bom_length_ = bom->length;
    offset_ += bom->length;
  }
  return decode_decided(std::string_view(sniffed_).substr(bom_length_));
}

decoded_text text_decoder::finish() {
  decoded_text result{{}, {}, offset_};
  bool continues_mapped_result = false;
  if (!decided_) {
    decided_ = true;
    if (const auto bom = detect_byte_order_mark(sniffed_)) {
      encoding_ = bom->encoding;
      bom_length_ = bom->length;
      offset_ += bom->length;
    }
    result = decode_decided(std::string_view(sniffed_).substr(bom_length_));
    continues_mapped_result = !result.offsets.empty();
  }

  switch (encoding_) {
    case text_encoding::utf_8:
      if (!utf8_carry_.empty()) {
        invalid_offsets_.push_back(utf8_carry_offset_);
        utf8_carry_.clear();
      }
      return result;
    case text_encoding::windows_1252:
    case text_encoding::iso_8859_1:
      return result;
    case text_encoding::utf_16le:
    case text_encoding::utf_16be:
      break;
  }

  // UTF-16: a surrogate without its pair and an odd final byte are both ill-formed.
  if (!has_high_surrogate_ && !has_odd_byte_) {
    return result;
  }
  if (continues_mapped_result) {
    offsets_.pop_back();
  } else {
    text_.clear();
    offsets_.clear();
  }
  if (has_high_surrogate_) {
    invalid_offsets_.push_back(high_surrogate_offset_);
    append_mapped(high_surrogate_, high_surrogate_offset_);
    has_high_surrogate_ = false;
  }
  if (has_odd_byte_) {
    invalid_offsets_.push_back(offset_ - 1);
    has_odd_byte_ = false;
  }
  return mapped_result(offset_);
}

decoded_text text_decoder::decode_decided(std::string_view bytes) {
  switch (encoding_) {
    case text_encoding::utf_8:
      return pass_utf8(bytes);
    case text_encoding::windows_1252:
    case text_encoding::iso_8859_1:
      return transcode_single_byte(bytes);
    case text_encoding::utf_16le:
    case text_encoding::utf_16be:
      return transcode_utf16(bytes);
  }
  return pass_utf8(bytes);
}

decoded_text text_decoder::pass_utf8(std::string_view bytes) {
  if (validation_ == utf8_validation::enabled) {
    validate_utf8(bytes, offset_);
  }
  decoded_text result{bytes, {}, offset_};
  offset_ += bytes.size();
  return result;
}

decoded_text text_decoder::transcode_single_byte(std::string_view bytes) {
  // ASCII maps to itself, so most chunks need neither a copy nor an offset map.
  if (is_ascii(bytes)) {
    decoded_text result{bytes, {}, offset_};
    offset_ += bytes.size();
    return result;
  }

  text_.clear();
  offsets_.clear();
  const bool windows_1252 = encoding_ == text_encoding::windows_1252;
  for (std::size_t i = 0; i < bytes.size(); ++i) {
    const auto byte = static_cast<unsigned char>(bytes[i]);
    append_mapped(windows_1252 ? windows_1252_code_point(byte) : byte, offset_ + i);
  }
  offset_ += bytes.size();
  return mapped_result(offset_);
}

decoded_text text_decoder::transcode_utf16(std::string_view bytes) {
  text_.clear();
  offsets_.clear();
  const bool little_endian = encoding_ == text_encoding::utf_16le;
  const auto unit_of = [little_endian](unsigned char first, unsigned char second) {
    return static_cast<char16_t>(little_endian ? (second << 8) | first : (first << 8) | second);
  };

  std::size_t i = 0;
  if (has_odd_byte_ && !bytes.empty()) {
    decode_utf16_unit(unit_of(odd_byte_, static_cast<unsigned char>(bytes[0])), offset_ - 1);
    has_odd_byte_ = false;
    i = 1;
  }
  for (; i + 1 < bytes.size(); i += 2) {
    decode_utf16_unit(
        unit_of(static_cast<unsigned char>(bytes[i]), static_cast<unsigned char>(bytes[i + 1])),
        offset_ + i);
  }
  if (i < bytes.size()) {
    has_odd_byte_ = true;
    odd_byte_ = static_cast<unsigned char>(bytes[i]);
  }
  offset_ += bytes.size();

  // The next output byte comes from the first byte still held back.
  std::uint64_t end = offset_;
  if (has_high_surrogate_) {
    end = high_surrogate_offset_;
  } else if (has_odd_byte_) {
    end = offset_ - 1;
  }
  return mapped_result(end);
}

void text_decoder::decode_utf16_unit(char16_t unit, std::uint64_t unit_offset) {
  if (has_high_surrogate_) {
    has_high_surrogate_ = false;
    if (is_low_surrogate(unit)) {
      const char32_t code_point =
          0x10000 + ((static_cast<char32_t>(high_surrogate_) - 0xD800) << 10) + (unit - 0xDC00);
      append_mapped(code_point, high_surrogate_offset_);
      return;
    }
    invalid_offsets_.push_back(high_surrogate_offset_);
    append_mapped(high_surrogate_, high_surrogate_offset_);
  }

  if (is_high_surrogate(unit)) {
    has_high_surrogate_ = true;
    high_surrogate_ = unit;
    high_surrogate_offset_ = unit_offset;
    return;
  }
  if (is_low_surrogate(unit)) {
    invalid_offsets_.push_back(unit_offset);
  }
  append_mapped(unit, unit_offset);
}

void text_decoder::append_mapped(char32_t code_point, std::uint64_t source_offset) {
  const std::size_t before = text_.size();
  append_code_point_as_utf8(code_point, text_);
  offsets_.insert(offsets_.end(), text_.size() - before, source_offset);
}

decoded_text text_decoder::mapped_result(std::uint64_t end_offset) {
  offsets_.push_back(end_offset);
  return decoded_text{text_, offsets_, 0};
}

void text_decoder::validate_utf8(std::string_view bytes, std::uint64_t base_offset) {
  std::size_t i = 0;

  // Finish the sequence the previous chunk cut off, using at most three more bytes.
  if (!utf8_carry_.empty()) {
    const std::size_t carried = utf8_carry_.size();
    std::string joined = utf8_carry_;
    joined.append(bytes.substr(0, 3));
    const utf8_sequence sequence = classify_utf8_sequence(joined);
    if (sequence.state == utf8_sequence::status::truncated) {
      utf8_carry_ = joined;
      return;
    }
    if (sequence.state == utf8_sequence::status::invalid) {
      invalid_offsets_.push_back(utf8_carry_offset_);
    }
    i = sequence.length > carried ? sequence.length - carried : 0;
    utf8_carry_.clear();
  }

  while (i < bytes.size()) {
    if (static_cast<unsigned char>(bytes[i]) < 0x80) {
      const auto next = std::find_if(bytes.begin() + static_cast<std::ptrdiff_t>(i), bytes.end(),
                                     [](char c) { return static_cast<unsigned char>(c) >= 0x80; });
      i = static_cast<std::size_t>(next - bytes.begin());
      continue;
    }
    const utf8_sequence sequence = classify_utf8_sequence(bytes.substr(i));
    if (sequence.state == utf8_sequence::status::truncated) {
      utf8_carry_.assign(bytes.substr(i));
      utf8_carry_offset_ = base_offset + i;
      return;
    }
    if (sequence.state == utf8_sequence::status::invalid) {
      invalid_offsets_.push_back(base_offset + i);
    }
    i += sequence.length;
  }
}

}  // namespace jobgate::csv
