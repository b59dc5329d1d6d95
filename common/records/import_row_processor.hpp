#pragma once

#include <boost/system/result.hpp>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/csv/csv_reader.hpp"
#include "common/csv/text_decoder.hpp"
#include "common/records/column_mapping.hpp"
#include "common/records/import_failure.hpp"
#include "common/records/import_request.hpp"
#include "common/records/property_catalog.hpp"
#include "common/records/row_error.hpp"

namespace jobgate::records {

enum class row_status : std::uint8_t { valid, rejected, blank };

// One normalised, non-empty property value of a valid row.
struct import_value {
  std::string property;  // property name; short names fit the string's inline buffer
  std::string value;
};

// Resume position of an interrupted import, taken from the last row fully handled.
struct import_checkpoint {
  std::uint64_t end_offset = 0;  // file offset where the next record starts
  std::uint64_t row = 0;         // spreadsheet row of the last handled record
  std::uint64_t next_line = 0;   // physical line where the next record starts
};

// The outcome for one data record of the file.
struct import_row {
  std::uint64_t row = 0;         // spreadsheet row: the header is row 1, blank records count
  std::uint64_t line = 0;        // physical line where the record starts
  std::uint64_t end_offset = 0;  // file offset after the record and its line end
  std::uint64_t next_line = 0;   // physical line where the next record starts
  row_status status = row_status::valid;
  std::string unique_key;            // valid rows: normalised value of the unique property
  std::vector<import_value> values;  // valid rows: in column order, the unique property included
  std::optional<row_error> error;    // rejected rows: the first error

  import_checkpoint checkpoint() const { return import_checkpoint{end_offset, row, next_line}; }
};

// Bounds on the memory one record may take; a record beyond them is rejected as value_too_long
// (or column_count_mismatch for too many fields).
struct import_limits {
  std::size_t max_field_bytes = std::size_t{1} << 20;
  std::size_t max_record_bytes = std::size_t{1} << 20;
  std::size_t max_fields = 16384;
  std::size_t max_error_value_bytes = 1024;  // longer cell values are cut in row errors
  // Maximum total size of the cells a row error keeps. The cells after it are left out.
  std::size_t max_error_cells_bytes = 64 * 1024;
};

// Turns an uploaded CSV file, fed in chunks of any size, into one import_row per data record.
//
// The first block (first_block_bytes, or the whole file if shorter) is checked for signs that the
// file is not CSV, and processing starts once it is complete. A byte-order mark decides the
// encoding over options.encoding. The first record is the header; it is resolved against the
// column mappings (see column_mapping::resolve). Each later record then becomes a row, checked in
// this order, and the first problem found rejects it whole:
//   1. the reader's own errors: unterminated_quote, value_too_long (field or record over the
//      limits), column_count_mismatch (more than max_fields fields);
//   2. blank: no cell contains anything but whitespace, so the row is skipped (status blank);
//   3. column_count_mismatch: a field count other than the header's;
//   4. each mapped cell in column order: invalid_encoding (ill-formed bytes), missing_required
//      (empty cell of a required or the unique property), then the type checks of
//      normalise_property_value(). Ill-formed bytes in unmapped columns are ignored.
// Only the first error of a row is reported. A rejected row also keeps all its cells, each cut
// like the error value, up to max_error_cells_bytes in total (see row_error::cells).
//
// Job-level failures are returned as errors and are final: every later call returns the same one.
// Not thread-safe; one processor serves one pass over one file.
class import_row_processor {
 public:
  static constexpr std::size_t first_block_bytes = 4096;

  // Prepares a pass over a file. `catalog` is copied as far as needed. With `resume_from`, rows
  // before the checkpoint are not produced. The caller feeds the file from offset 0, and the
  // processor reads the header and then requests a seek (see take_seek_offset()). Rows continue
  // with resume_from.row + 1 and equal what an uninterrupted pass gives from there.
  // Fails with invalid_request when the object type is unknown or dedupeBy is not its unique
  // property.
  static boost::system::result<import_row_processor, import_failure> create(
      const property_catalog& catalog, const import_request& request,
      std::optional<import_checkpoint> resume_from = std::nullopt,
      const import_limits& limits = {});

  // Processes the next chunk, appending a row to `out` for every data record that ends in it.
  boost::system::result<void, import_failure> feed(std::string_view chunk,
                                                   std::vector<import_row>& out);

  // Ends the input, appending the rows still pending. Fails with empty-file when the file had
  // no header record.
  boost::system::result<void, import_failure> finish(std::vector<import_row>& out);

  // After a feed() that read the header of a resumed pass: the file offset to read on from, once.
  // Bytes fed after that call are taken to start at that offset. Returns nullopt when no seek is
  // needed, including when the checkpoint lay inside bytes already fed.
  std::optional<std::uint64_t> take_seek_offset();

  bool header_read() const { return mapping_.has_value(); }
  // The resolved mapping; only valid once header_read().
  const column_mapping& mapping() const { return *mapping_; }
  // Header cells no property takes; empty until header_read().
  const std::vector<std::string>& unmapped_columns() const;
  // Header cells as decoded and untrimmed, with ill-formed bytes escaped. Empty until
  // header_read().
  const std::vector<std::string>& header_cells() const { return header_cells_; }
  // The encoding in use; final once the first block was processed.
  csv::text_encoding encoding() const { return decoder_.encoding(); }
  const object_type_definition& object_type() const { return *object_type_; }

 private:
  import_row_processor(std::shared_ptr<const object_type_definition> object_type,
                       const import_request& request, std::optional<import_checkpoint> resume_from,
                       const import_limits& limits);

  std::optional<import_failure> check_first_block(std::string_view block) const;
  void consume(std::string_view bytes, std::uint64_t bytes_offset, std::vector<import_row>& out);
  void process(const csv::decoded_text& text, std::vector<import_row>& out);
  void handle_record(const csv::csv_record& record, std::vector<import_row>& out);
  void read_header(const csv::csv_record& record);
  void read_row(const csv::csv_record& record, import_row& row);
  // Rejects `row` for an error the reader found in `record`; returns whether there was one.
  bool reject_reader_error(const csv::csv_record& record, import_row& row);
  void read_values(const csv::csv_record& record, import_row& row);
  void locate_invalid_bytes(const csv::csv_record& record);
  void reject(import_row& row, row_error_kind kind, const std::string* column,
              const property_definition* property, std::string_view value, std::string detail);
  void keep_cells(const csv::csv_record& record, row_error& error) const;
  void start_resumed_pass();
  csv::csv_options reader_options(std::uint64_t start_offset, std::uint64_t start_line) const;
  boost::system::result<void, import_failure> status() const;

  std::shared_ptr<const object_type_definition> object_type_;
  std::vector<column_mapping_request> requested_mappings_;
  import_options options_;
  import_limits limits_;
  std::optional<import_checkpoint> resume_from_;

  std::string first_block_;
  bool first_block_checked_ = false;
  std::uint64_t input_offset_ = 0;  // file offset of the next byte fed
  csv::text_decoder decoder_;
  csv::csv_reader reader_;

  std::optional<column_mapping> mapping_;
  std::vector<std::string> header_cells_;
  std::size_t header_fields_ = 0;
  std::uint64_t row_ = 1;
  bool header_just_read_ = false;
  bool ignore_records_ = false;  // records after the header of a resumed pass, before the seek
  std::optional<std::uint64_t> seek_offset_;
  std::optional<import_failure> failure_;

  // Per-record scratch, reused so a row costs no allocations beyond its own strings.
  std::vector<std::uint64_t> invalid_at_;  // first ill-formed byte per field, or no_offset
  bool record_has_invalid_bytes_ = false;
  std::string value_;
};

}  // namespace jobgate::records
