#include "gateway/error_report_writer.hpp"

#include "common/json/json.hpp"

namespace jobgate::gateway {
namespace {

constexpr std::string_view utf8_byte_order_mark = "\xEF\xBB\xBF";

// Row details are sentence fragments without a final period, so the note continues them.
constexpr std::string_view cut_cells_note =
    "; some cells were cut short (they end in \u2026) or left out by the report's size limits, so "
    "restore them before importing the row again";

bool ends_with_report_columns(const std::vector<std::string>& header) {
  const auto& names = error_report_writer::report_columns;
  if (header.size() < names.size()) {
    return false;
  }
  const std::size_t start = header.size() - names.size();
  for (std::size_t i = 0; i < names.size(); ++i) {
    if (header[start + i] != names[i]) {
      return false;
    }
  }
  return true;
}

}  // namespace

error_report_writer::error_report_writer(std::vector<std::string> header_cells, char delimiter)
    : header_cells_(std::move(header_cells)),
      writer_(
          [this](std::string_view bytes) {
            output_.append(bytes);
            return boost::system::error_code{};
          },
          delimiter) {
  data_columns_ = header_cells_.size();
  if (ends_with_report_columns(header_cells_)) {
    skipped_columns_ = report_columns.size();
    data_columns_ -= skipped_columns_;
  }
}

std::vector<std::string> error_report_writer::parse_header_cells(std::string_view json_array) {
  std::vector<std::string> cells;
  if (json_array.empty()) {
    return cells;
  }
  auto parsed = json::parse(json_array);
  if (!parsed || !parsed->IsArray()) {
    return cells;
  }
  for (const auto& cell : parsed->GetArray()) {
    if (!cell.IsString()) {
      return {};
    }
    cells.emplace_back(cell.GetString(), cell.GetStringLength());
  }
  return cells;
}

void error_report_writer::write_header() {
  (void)writer_.flush();
  output_.append(utf8_byte_order_mark);
  for (std::size_t i = 0; i < data_columns_; ++i) {
    writer_.write_field(header_cells_[i]);
  }
  for (const std::string_view name : report_columns) {
    writer_.write_field(name);
  }
  writer_.end_record();
}

bool error_report_writer::write_entry(std::string_view entry_json) {
  auto entry = json::parse(entry_json);
  if (!entry || !entry->IsObject()) {
    return false;
  }

  std::vector<std::string_view> cells;
  if (const json::value* list = json::get_array(*entry, "cells")) {
    cells.reserve(list->Size());
    for (const auto& cell : list->GetArray()) {
      cells.emplace_back(cell.IsString()
                             ? std::string_view(cell.GetString(), cell.GetStringLength())
                             : std::string_view{});
    }
  }

  // Data cells, padded when the row was short.
  for (std::size_t i = 0; i < data_columns_; ++i) {
    writer_.write_field(i < cells.size() ? cells[i] : std::string_view{});
  }

  const auto row = json::get_int(*entry, "row");
  writer_.write_field(row ? std::to_string(*row) : std::string());
  writer_.write_field(json::get_string(*entry, "column").value_or(""));
  writer_.write_field(json::get_string(*entry, "kind").value_or(""));
  std::string detail(json::get_string(*entry, "detail").value_or(""));
  if (json::get_bool(*entry, "cellsCut").value_or(false)) {
    detail += detail.empty() ? cut_cells_note.substr(2) : cut_cells_note;
  }
  writer_.write_field(detail);

  // Cells past the header's width, after those that held an earlier report's columns.
  for (std::size_t i = data_columns_ + skipped_columns_; i < cells.size(); ++i) {
    writer_.write_field(cells[i]);
  }
  writer_.end_record();
  return true;
}

std::string error_report_writer::take_output() {
  (void)writer_.flush();
  std::string output;
  output.swap(output_);
  return output;
}

}  // namespace jobgate::gateway
