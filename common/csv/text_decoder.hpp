#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/csv/text_encoding.hpp"

namespace jobgate::csv {

// A piece of decoded text with the map from its bytes back to offsets in the original file.
struct decoded_text {
  std::string_view text;
  // Original offset of each byte of `text`, plus one entry for the end of the piece. Empty when
  // the bytes map one to one, text[i] being at base_offset + i.
  std::span<const std::uint64_t> offsets;
  std::uint64_t base_offset = 0;

  std::uint64_t offset_at(std::size_t index) const {
    return offsets.empty() ? base_offset + index : offsets[index];
  }
};

// Whether text_decoder checks UTF-8 input and records where it is ill-formed.
enum class utf8_validation : std::uint8_t { enabled, disabled };

// Streaming decoder from an uploaded file's bytes to UTF-8, in chunks of any size.
//
// It strips a byte-order mark, which decides the encoding over the requested one, and transcodes
// windows-1252, ISO-8859-1 and UTF-16 to UTF-8. It records where ill-formed input starts: invalid
// UTF-8 passes through unchanged, and an unpaired UTF-16 surrogate is written in its 3-byte form,
// which is ill-formed UTF-8 too. Offsets always refer to the original file. Not thread-safe.
class text_decoder {
 public:
  // `start_offset` is the file offset of the first byte decode() receives. A byte-order mark is
  // looked for only when it is 0, so a decoder that resumes mid-file keeps `encoding`.
  explicit text_decoder(text_encoding encoding, std::uint64_t start_offset = 0,
                        utf8_validation validation = utf8_validation::enabled);

  // Decodes the next bytes. The result views buffers of this decoder and of `bytes`, and stays
  // valid until the next call. Bytes that may start a byte-order mark are held back until it is
  // decided, so the result can be empty.
  decoded_text decode(std::string_view bytes);

  // Decodes what was held back at the end of the input and reports an incomplete final sequence.
  decoded_text finish();

  // The encoding in use; final once encoding_decided() is true.
  text_encoding encoding() const { return encoding_; }
  bool encoding_decided() const { return decided_; }
  std::size_t byte_order_mark_length() const { return bom_length_; }

  // File offsets where ill-formed input starts, ascending. The caller pops the entries it handled.
  std::deque<std::uint64_t>& invalid_offsets() { return invalid_offsets_; }

 private:
  decoded_text decode_decided(std::string_view bytes);
  decoded_text pass_utf8(std::string_view bytes);
  decoded_text transcode_single_byte(std::string_view bytes);
  decoded_text transcode_utf16(std::string_view bytes);
  void decode_utf16_unit(char16_t unit, std::uint64_t unit_offset);
  void append_mapped(char32_t code_point, std::uint64_t source_offset);
  decoded_text mapped_result(std::uint64_t end_offset);
  void validate_utf8(std::string_view bytes, std::uint64_t base_offset);

  text_encoding encoding_;
  utf8_validation validation_;
  bool decided_;
  std::size_t bom_length_ = 0;
  std::uint64_t offset_;  // file offset of the next byte to consume
  std::string sniffed_;   // bytes held back while a byte-order mark is undecided
  std::string text_;
  std::vector<std::uint64_t> offsets_;
  std::deque<std::uint64_t> invalid_offsets_;

  // A UTF-8 sequence cut by the end of the previous chunk, kept for validation only.
  std::string utf8_carry_;
  std::uint64_t utf8_carry_offset_ = 0;

  // UTF-16 state carried between chunks: an odd byte and a high surrogate awaiting its pair.
  bool has_odd_byte_ = false;
  unsigned char odd_byte_ = 0;
  bool has_high_surrogate_ = false;
  char16_t high_surrogate_ = 0;
  std::uint64_t high_surrogate_offset_ = 0;
};

}  // namespace jobgate::csv
