#include "common/records/import_record_counter.hpp"

#include <vector>

namespace jobgate::records {
namespace {

constexpr std::size_t read_chunk_bytes = 64 * 1024;

csv::csv_options counting_options(const import_options& options) {
  csv::csv_options reader_options;
  reader_options.delimiter = options.delimiter;
  reader_options.keep_fields = false;
  return reader_options;
}

}  // namespace

import_record_counter::import_record_counter(const import_options& options)
    : decoder_(options.encoding, 0, csv::utf8_validation::disabled),
      reader_(counting_options(options)) {}

void import_record_counter::feed(std::string_view bytes) {
  count(decoder_.decode(bytes));
}

void import_record_counter::finish() {
  count(decoder_.finish());
  reader_.finish([this](const csv::csv_record&) { ++records_; });
}

void import_record_counter::count(const csv::decoded_text& text) {
  reader_.feed(text, [this](const csv::csv_record&) { ++records_; });
  decoder_.invalid_offsets().clear();  // UTF-16 surrogate reports are of no use here
}

std::uint64_t import_record_counter::count_data_records(std::string_view file,
                                                        const import_options& options) {
  import_record_counter counter(options);
  counter.feed(file);
  counter.finish();
  return counter.data_records();
}

boost::system::result<std::uint64_t> import_record_counter::count_data_records(
    blob_reader& reader, const import_options& options, const std::function<void()>& before_read) {
  import_record_counter counter(options);
  std::vector<char> chunk(read_chunk_bytes);
  for (;;) {
    if (before_read) {
      before_read();
    }
    auto read = reader.read(chunk.data(), chunk.size());
    if (!read) {
      return read.error();
    }
    if (*read == 0) {
      break;
    }
    counter.feed(std::string_view(chunk.data(), *read));
  }
  counter.finish();
  return counter.data_records();
}

boost::system::result<std::uint64_t> count_stored_records(blob_store& blobs, std::string_view key,
                                                          const import_options& options) {
  auto reader = blobs.open(key);
  if (!reader) {
    return reader.error();
  }
  return import_record_counter::count_data_records(**reader, options);
}

}  // namespace jobgate::records
