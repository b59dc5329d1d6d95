#pragma once

#include <boost/system/result.hpp>
#include <cstdint>
#include <functional>
#include <string_view>

#include "common/blob/blob_store.hpp"
#include "common/csv/csv_reader.hpp"
#include "common/csv/text_decoder.hpp"
#include "common/records/import_request.hpp"

namespace jobgate::records {

// Counts the CSV records of an uploaded file, fed in chunks of any size, without storing fields:
// a quoted field that spans lines is one record, and a final line end starts none. The count
// matches the rows import_row_processor produces for the same file and options, so it can give
// progress.total before the import runs. Not thread-safe.
class import_record_counter {
 public:
  explicit import_record_counter(const import_options& options);

  void feed(std::string_view bytes);
  void finish();

  std::uint64_t records() const { return records_; }  // all records, the header included
  std::uint64_t data_records() const { return records_ == 0 ? 0 : records_ - 1; }

  // Counts the data records of a whole file held in memory.
  static std::uint64_t count_data_records(std::string_view file, const import_options& options);

  // Counts the data records of a stored file from the reader's position to the end. before_read
  // runs before every read, for example to report that the caller is alive. Fails when a read
  // fails.
  static boost::system::result<std::uint64_t> count_data_records(
      blob_reader& reader, const import_options& options,
      const std::function<void()>& before_read = {});

 private:
  void count(const csv::decoded_text& text);

  csv::text_decoder decoder_;
  csv::csv_reader reader_;
  std::uint64_t records_ = 0;
};

// Counts the data records of the blob under `key`. Fails when it cannot be opened or read.
boost::system::result<std::uint64_t> count_stored_records(blob_store& blobs, std::string_view key,
                                                          const import_options& options);

}  // namespace jobgate::records
