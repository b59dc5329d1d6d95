#include "common/records/import_row_processor.hpp"

#include <algorithm>
#include <limits>
#include <utility>

#include "common/csv/text_encoding.hpp"
#include "common/records/property_value.hpp"

namespace jobgate::records {
namespace {

constexpr std::uint64_t no_offset = std::numeric_limits<std::uint64_t>::max();

import_failure make_failure(import_failure_kind kind, std::string subject, std::string detail) {
  return import_failure{kind, std::move(subject), std::move(detail)};
}

// Returns at most `max_bytes` of `text`, cut before a UTF-8 sequence rather than inside it.
std::string_view cut_at_character(std::string_view text, std::size_t max_bytes) {
  if (text.size() <= max_bytes) {
    return text;
  }
  std::size_t cut = max_bytes;
  for (int back = 0; back < 3 && cut > 0; ++back) {
    if ((static_cast<unsigned char>(text[cut]) & 0xC0) != 0x80) {
      break;
    }
    --cut;
  }
  return text.substr(0, cut);
}

bool is_blank_record(const csv::csv_record& record) {
  for (std::size_t i = 0; i < record.size(); ++i) {
    if (!is_blank(record[i])) {
      return false;
    }
  }
  return true;
}

}  // namespace

boost::system::result<import_row_processor, import_failure> import_row_processor::create(
    const property_catalog& catalog, const import_request& request,
    std::optional<import_checkpoint> resume_from, const import_limits& limits) {
  const object_type_definition* object_type = catalog.find_object_type(request.object_type);
  if (object_type == nullptr) {
    return make_failure(import_failure_kind::invalid_request, request.object_type,
                        "The object type '" + request.object_type + "' does not exist.");
  }
  const std::optional<std::string>& dedupe_by = request.options.dedupe_by;
  if (dedupe_by && *dedupe_by != object_type->unique_property) {
    return make_failure(import_failure_kind::invalid_request, *dedupe_by,
                        object_type->name + " are deduplicated by " + object_type->unique_property +
                            ", so dedupeBy cannot be '" + *dedupe_by + "'.");
  }
  if (resume_from &&
      (resume_from->end_offset == 0 || resume_from->row < 1 || resume_from->next_line < 2)) {
    return make_failure(import_failure_kind::invalid_request, {},
                        "The resume checkpoint does not lie after the header.");
  }
  return import_row_processor(std::make_shared<const object_type_definition>(*object_type), request,
                              resume_from, limits);
}

import_row_processor::import_row_processor(
    std::shared_ptr<const object_type_definition> object_type, const import_request& request,
    std::optional<import_checkpoint> resume_from, const import_limits& limits)
    : object_type_(std::move(object_type)),
      requested_mappings_(request.column_mappings),
      options_(request.options),
      limits_(limits),
      resume_from_(resume_from),
      decoder_(request.options.encoding),
      reader_(reader_options(0, 1)) {}

csv::csv_options import_row_processor::reader_options(std::uint64_t start_offset,
                                                      std::uint64_t start_line) const {
  csv::csv_options options;
  options.delimiter = options_.delimiter;
  options.max_field_bytes = limits_.max_field_bytes;
  options.max_record_bytes = limits_.max_record_bytes;
  options.max_fields = limits_.max_fields;
  options.start_offset = start_offset;
  options.start_line = start_line;
  return options;
}

boost::system::result<void, import_failure> import_row_processor::feed(
    std::string_view chunk, std::vector<import_row>& out) {
  if (failure_) {
    return *failure_;
  }
  if (first_block_checked_) {
    consume(chunk, input_offset_, out);
    return status();
  }

  first_block_.append(chunk);
  if (first_block_.size() < first_block_bytes) {
    return {};
  }
  first_block_checked_ = true;
  failure_ = check_first_block(first_block_);
  if (!failure_) {
    consume(first_block_, 0, out);
  }
  std::string().swap(first_block_);
  return status();
}

boost::system::result<void, import_failure> import_row_processor::finish(
    std::vector<import_row>& out) {
  if (failure_) {
    return *failure_;
  }
  if (!first_block_checked_) {
    first_block_checked_ = true;
    failure_ = check_first_block(first_block_);
    if (!failure_) {
      consume(first_block_, 0, out);
    }
    std::string().swap(first_block_);
  }

  if (!failure_) {
    process(decoder_.finish(), out);
    reader_.finish([this, &out](const csv::csv_record& record) { handle_record(record, out); });
  }
  if (!failure_ && !mapping_) {
    failure_ = make_failure(import_failure_kind::empty_file, {},
                            "The file is empty: it has no header line.");
  }
  return status();
}

const std::vector<std::string>& import_row_processor::unmapped_columns() const {
  static const std::vector<std::string> none;
  return mapping_ ? mapping_->unmapped_columns() : none;
}

std::optional<std::uint64_t> import_row_processor::take_seek_offset() {
  return std::exchange(seek_offset_, std::nullopt);
}

std::optional<import_failure> import_row_processor::check_first_block(
    std::string_view block) const {
  const auto not_csv = [](std::string detail) {
    return make_failure(import_failure_kind::not_csv, {}, std::move(detail));
  };
  if (block.starts_with("PK\x03\x04") || block.starts_with("PK\x05\x06") ||
      block.starts_with("PK\x07\x08")) {
    return not_csv(
        "The file starts with the ZIP signature (PK), so it is a ZIP archive such as an Excel "
        "workbook (.xlsx), not CSV; save the sheet as CSV and upload that file.");
  }
  if (block.starts_with("\x1F\x8B")) {
    return not_csv(
        "The file starts with the gzip signature (\\x1F\\x8B), so it is compressed; decompress it "
        "and upload the CSV file.");
  }
  if (block.starts_with("%PDF-")) {
    return not_csv("The file starts with %PDF-, so it is a PDF document, not CSV.");
  }
  if (block.starts_with("\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1")) {
    return not_csv(
        "The file starts with the OLE2 signature, so it is an Excel 97-2003 workbook (.xls) or "
        "another Office file, not CSV; save the sheet as CSV and upload that file.");
  }

  // UTF-16 text is full of NUL bytes; with its byte-order mark it is still CSV.
  const auto bom = csv::detect_byte_order_mark(block);
  if (bom && bom->encoding != csv::text_encoding::utf_8) {
    return std::nullopt;
  }
  if (const std::size_t nul = block.substr(0, first_block_bytes).find('\0');
      nul != std::string_view::npos) {
    return not_csv("The file has a NUL byte at byte offset " + std::to_string(nul) +
                   ", so it is binary, not CSV text (or UTF-16 without a byte-order mark). "
                   "Upload a CSV file saved as UTF-8.");
  }
  return std::nullopt;
}

void import_row_processor::consume(std::string_view bytes, std::uint64_t bytes_offset,
                                   std::vector<import_row>& out) {
  process(decoder_.decode(bytes), out);
  input_offset_ = bytes_offset + bytes.size();
  if (!header_just_read_) {
    return;
  }
  header_just_read_ = false;

  // A resumed pass skips to the checkpoint, inside these bytes or by a seek.
  start_resumed_pass();
  const std::uint64_t resume_offset = resume_from_->end_offset;
  if (resume_offset < input_offset_) {
    consume(bytes.substr(resume_offset - bytes_offset), resume_offset, out);
  } else {
    seek_offset_ = resume_offset;
    input_offset_ = resume_offset;
  }
}

void import_row_processor::process(const csv::decoded_text& text, std::vector<import_row>& out) {
  reader_.feed(text, [this, &out](const csv::csv_record& record) { handle_record(record, out); });
}

void import_row_processor::handle_record(const csv::csv_record& record,
                                         std::vector<import_row>& out) {
  if (failure_) {
    return;
  }
  if (!mapping_) {
    read_header(record);
    return;
  }
  if (ignore_records_) {
    auto& invalid = decoder_.invalid_offsets();
    while (!invalid.empty() && invalid.front() < record.end_offset()) {
      invalid.pop_front();
    }
    return;
  }
  import_row& row = out.emplace_back();
  read_row(record, row);
  if (row.status == row_status::rejected) {
    keep_cells(record, *row.error);
  }
}

void import_row_processor::read_header(const csv::csv_record& record) {
  auto& invalid = decoder_.invalid_offsets();
  while (!invalid.empty() && invalid.front() < record.end_offset()) {
    invalid.pop_front();
  }

  switch (record.error()) {
    case csv::csv_error::none:
      break;
    case csv::csv_error::unterminated_quote:
      failure_ = make_failure(import_failure_kind::invalid_header, {},
                              "The header has a quoted field that is not closed before the end "
                              "of the file.");
      return;
    case csv::csv_error::field_too_large:
    case csv::csv_error::record_too_large:
      failure_ = make_failure(import_failure_kind::invalid_header, {},
                              "The header is longer than the limit of " +
                                  std::to_string(limits_.max_record_bytes) + " bytes.");
      return;
    case csv::csv_error::too_many_fields:
      failure_ = make_failure(
          import_failure_kind::invalid_header, {},
          "The header has more than " + std::to_string(limits_.max_fields) + " columns.");
      return;
  }
  if (is_blank_record(record)) {
    failure_ = make_failure(import_failure_kind::empty_file, {},
                            "The first line of the file is blank; the header must be on line 1.");
    return;
  }

  std::vector<std::string> header(record.size());
  for (std::size_t i = 0; i < record.size(); ++i) {
    csv::append_escaped_utf8(record[i], header[i]);
  }
  auto resolved = column_mapping::resolve(*object_type_, header, requested_mappings_);
  if (!resolved) {
    failure_ = std::move(resolved.error());
    return;
  }
  mapping_ = std::move(*resolved);
  header_cells_ = std::move(header);
  header_fields_ = record.size();
  row_ = 1;

  if (resume_from_) {
    if (resume_from_->end_offset < record.end_offset()) {
      failure_ = make_failure(import_failure_kind::invalid_request, {},
                              "The resume checkpoint at byte offset " +
                                  std::to_string(resume_from_->end_offset) +
                                  " lies inside the header, which ends at byte offset " +
                                  std::to_string(record.end_offset()) + ".");
      return;
    }
    ignore_records_ = true;
    header_just_read_ = true;
  }
}

void import_row_processor::locate_invalid_bytes(const csv::csv_record& record) {
  record_has_invalid_bytes_ = false;
  auto& invalid = decoder_.invalid_offsets();
  while (!invalid.empty() && invalid.front() < record.start_offset()) {
    invalid.pop_front();
  }
  if (invalid.empty() || invalid.front() >= record.end_offset() || record.size() == 0) {
    return;
  }

  // Offsets and fields both ascend, so one pass assigns each offset to its field.
  invalid_at_.assign(record.size(), no_offset);
  std::size_t field = 0;
  while (!invalid.empty() && invalid.front() < record.end_offset()) {
    const std::uint64_t offset = invalid.front();
    invalid.pop_front();
    while (field + 1 < record.size() && record.field_offset(field + 1) <= offset) {
      ++field;
    }
    if (invalid_at_[field] == no_offset) {
      invalid_at_[field] = offset;
    }
  }
  record_has_invalid_bytes_ = true;
}

void import_row_processor::read_row(const csv::csv_record& record, import_row& row) {
  row.row = ++row_;
  row.line = record.line();
  row.end_offset = record.end_offset();
  row.next_line = record.next_line();
  locate_invalid_bytes(record);

  if (reject_reader_error(record, row)) {
    return;
  }
  if (is_blank_record(record)) {
    row.status = row_status::blank;
    return;
  }
  if (record.size() != header_fields_) {
    reject(row, row_error_kind::column_count_mismatch, nullptr, nullptr, {},
           "expected " + std::to_string(header_fields_) + " fields, got " +
               std::to_string(record.size()));
    return;
  }

  read_values(record, row);
}

bool import_row_processor::reject_reader_error(const csv::csv_record& record, import_row& row) {
  const auto column_name = [this](std::size_t column) -> const std::string* {
    return column < mapping_->header().size() ? &mapping_->header()[column] : nullptr;
  };
  const auto property_of = [this](std::size_t column) -> const property_definition* {
    for (const column_binding& binding : mapping_->bindings()) {
      if (binding.column == column) {
        return binding.property;
      }
    }
    return nullptr;
  };
  const auto field_or_empty = [&record](std::size_t field) {
    return field < record.size() ? record[field] : std::string_view();
  };

  // The reader's own errors come first, because the record's fields cannot be trusted.
  const std::size_t error_field = record.error_field();
  switch (record.error()) {
    case csv::csv_error::none:
      break;
    case csv::csv_error::unterminated_quote:
      reject(row, row_error_kind::unterminated_quote, column_name(error_field),
             property_of(error_field), field_or_empty(error_field),
             "a quoted field is not closed before the end of the file");
      return true;
    case csv::csv_error::field_too_large:
      reject(row, row_error_kind::value_too_long, column_name(error_field),
             property_of(error_field), field_or_empty(error_field),
             "the field is longer than the limit of " + std::to_string(limits_.max_field_bytes) +
                 " bytes");
      return true;
    case csv::csv_error::record_too_large:
      reject(row, row_error_kind::value_too_long, column_name(error_field),
             property_of(error_field), field_or_empty(error_field),
             "the record is longer than the limit of " + std::to_string(limits_.max_record_bytes) +
                 " bytes");
      return true;
    case csv::csv_error::too_many_fields:
      reject(row, row_error_kind::column_count_mismatch, nullptr, nullptr, {},
             "expected " + std::to_string(header_fields_) + " fields, got more than " +
                 std::to_string(limits_.max_fields));
      return true;
  }

  return false;
}

void import_row_processor::read_values(const csv::csv_record& record, import_row& row) {
  row.values.reserve(mapping_->bindings().size());
  for (const column_binding& binding : mapping_->bindings()) {
    const std::string_view cell = record[binding.column];
    const property_definition& property = *binding.property;

    if (record_has_invalid_bytes_ && invalid_at_[binding.column] != no_offset) {
      const bool utf16 = decoder_.encoding() == csv::text_encoding::utf_16le ||
                         decoder_.encoding() == csv::text_encoding::utf_16be;
      reject(row, row_error_kind::invalid_encoding, &binding.column_name, &property, cell,
             std::string(utf16 ? "invalid UTF-16 (an unpaired surrogate)" : "invalid UTF-8") +
                 " at byte offset " + std::to_string(invalid_at_[binding.column]) + " of the file");
      return;
    }

    const bool is_unique = property.name == object_type_->unique_property;
    const value_check check = normalise_property_value(property, cell, options_.dates, value_);
    if (check.state == value_state::empty) {
      if (property.required || property.unique || is_unique) {
        reject(row, row_error_kind::missing_required, &binding.column_name, &property, cell,
               property.name + " is required, but the cell is empty");
        return;
      }
      continue;
    }
    if (check.state == value_state::invalid) {
      std::string detail(check.detail);
      if (check.error == row_error_kind::invalid_option) {
        detail += ": ";
        for (std::size_t i = 0; i < property.options.size(); ++i) {
          detail += i == 0 ? "" : ", ";
          detail += property.options[i];
        }
      }
      reject(row, check.error, &binding.column_name, &property, cell, std::move(detail));
      return;
    }

    if (is_unique) {
      row.unique_key = value_;
    }
    row.values.push_back(import_value{property.name, value_});
  }
  row.status = row_status::valid;
}

void import_row_processor::reject(import_row& row, row_error_kind kind, const std::string* column,
                                  const property_definition* property, std::string_view value,
                                  std::string detail) {
  row.status = row_status::rejected;
  row.unique_key.clear();
  row.values.clear();

  row_error& error = row.error.emplace();
  error.row = row.row;
  error.line = row.line;
  error.kind = kind;
  if (column != nullptr) {
    error.column = *column;
  }
  if (property != nullptr) {
    error.property = property->name;
  }
  const std::string_view value_prefix = cut_at_character(value, limits_.max_error_value_bytes);
  csv::append_escaped_utf8(value_prefix, error.value);
  if (value_prefix.size() < value.size()) {
    error.value += "\u2026";
  }
  error.detail = std::move(detail);
}

void import_row_processor::keep_cells(const csv::csv_record& record, row_error& error) const {
  error.cells.reserve(record.size());
  std::size_t kept_bytes = 0;
  for (std::size_t i = 0; i < record.size(); ++i) {
    if (kept_bytes >= limits_.max_error_cells_bytes) {
      error.cells_cut = true;
      return;
    }
    const std::string_view cell = record[i];
    const std::string_view prefix = cut_at_character(cell, limits_.max_error_value_bytes);
    std::string& copy = error.cells.emplace_back();
    csv::append_escaped_utf8(prefix, copy);
    if (prefix.size() < cell.size()) {
      copy += "\u2026";
      error.cells_cut = true;
    }
    kept_bytes += copy.size();
  }
}

void import_row_processor::start_resumed_pass() {
  decoder_ = csv::text_decoder(decoder_.encoding(), resume_from_->end_offset);
  reader_ = csv::csv_reader(reader_options(resume_from_->end_offset, resume_from_->next_line));
  row_ = resume_from_->row;
  ignore_records_ = false;
}

boost::system::result<void, import_failure> import_row_processor::status() const {
  if (failure_) {
    return *failure_;
  }
  return {};
}

}  // namespace jobgate::records
