#pragma once

#include <array>
#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "common/csv/csv_writer.hpp"

namespace jobgate::gateway {

// Writes an import's rejected rows as a CSV file that a user can correct and import again.
//
// The header record is the import file's header cells followed by the report columns jobgate_row,
// jobgate_column, jobgate_error and jobgate_detail. Each data record has the row's original cells
// under their header cells, padded with empty cells when the row was short, then the row number,
// offending column, error kind and detail. Cells beyond the header's width follow the report
// columns, without a header cell. When the imported file was itself a report (its header ends with
// the four report columns), those columns are dropped from the header and the rows, so reports do
// not nest. Output starts with a UTF-8 byte-order mark, which makes spreadsheets read the file as
// UTF-8 and decides the encoding when it is imported again. Cells are written unchanged, without
// formula escaping, so that an import of the report stores the same values.
//
// Not thread-safe; output collects until take_output().
class error_report_writer {
 public:
  static constexpr std::array<std::string_view, 4> report_columns = {
      "jobgate_row", "jobgate_column", "jobgate_error", "jobgate_detail"};

  // `header_cells` may be empty when the job never read a header; every cell is then an extra one.
  error_report_writer(std::vector<std::string> header_cells, char delimiter);
  // The CSV writer's sink points at this object, so it stays in place.
  error_report_writer(const error_report_writer&) = delete;
  error_report_writer& operator=(const error_report_writer&) = delete;

  // Parses the header cells as the worker stores them, a JSON array of strings. Returns an empty
  // list for empty or malformed text.
  static std::vector<std::string> parse_header_cells(std::string_view json_array);

  // Appends the byte-order mark and the header record.
  void write_header();

  // Appends the record of one error entry as the worker stored it (see row_error_json). Returns
  // false, writing nothing, when the entry is not a JSON object.
  bool write_entry(std::string_view entry_json);

  // Returns the output written since the last call and clears it.
  std::string take_output();

 private:
  std::vector<std::string> header_cells_;
  // Number of header cells of file data: all of them, or all but an earlier report's columns.
  std::size_t data_columns_ = 0;
  // Number of cells after the data columns that contain an earlier report's columns, to skip.
  std::size_t skipped_columns_ = 0;
  std::string output_;
  csv::csv_writer writer_;
};

}  // namespace jobgate::gateway
