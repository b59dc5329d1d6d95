#include "gateway/import_preview.hpp"

#include <optional>
#include <vector>

#include "common/records/import_request.hpp"
#include "common/records/import_row_processor.hpp"
#include "common/records/row_error_json.hpp"

namespace jobgate::gateway {

namespace {

void write_failure(json::writer& out, const records::import_failure& failure) {
  out.Key("failure");
  out.StartObject();
  json::write_string(out, "type",
                     "https://jobgate.dev/problems/" + std::string(records::slug(failure.kind)));
  if (!failure.subject.empty()) {
    json::write_string(out, "subject", failure.subject);
  }
  json::write_string(out, "detail", failure.detail);
  out.EndObject();
}

}  // namespace

std::string preview_import(const records::property_catalog& catalog,
                           const json::document& import_request, std::string_view file_start,
                           bool whole_file, std::size_t max_rows) {
  rapidjson::StringBuffer buffer;
  json::writer out(buffer);
  out.StartObject();
  out.Key("dryRun");
  out.Bool(true);

  std::optional<records::import_failure> failure;
  std::vector<records::import_row> rows;
  auto request = records::import_request::from_json(import_request);
  std::optional<records::import_row_processor> processor;
  if (!request) {
    failure = request.error();
  } else if (auto created = records::import_row_processor::create(catalog, *request); !created) {
    failure = created.error();
  } else {
    processor.emplace(std::move(*created));
    auto fed = processor->feed(file_start, rows);
    if (fed && whole_file) {
      fed = processor->finish(rows);
    }
    if (!fed) {
      failure = fed.error();
    }
  }
  // Without the whole file, the last record may be cut short: it is left out.
  if (!whole_file && !rows.empty()) {
    rows.pop_back();
  }
  if (rows.size() > max_rows) {
    rows.resize(max_rows);
  }

  out.Key("valid");
  out.Bool(!failure && std::none_of(rows.begin(), rows.end(), [](const auto& row) {
    return row.status == records::row_status::rejected;
  }));
  if (failure) {
    write_failure(out, *failure);
  }
  if (processor && processor->header_read()) {
    json::write_string(out, "encoding", csv::to_string(processor->encoding()));
    out.Key("columns");
    out.StartArray();
    const auto& header = processor->header_cells();
    for (std::size_t i = 0; i < header.size(); ++i) {
      out.StartObject();
      out.Key("index");
      out.Uint64(i);
      json::write_string(out, "header", header[i]);
      for (const auto& binding : processor->mapping().bindings()) {
        if (binding.column == i && binding.property != nullptr) {
          json::write_string(out, "propertyName", binding.property->name);
          json::write_string(out, "propertyType", records::to_string(binding.property->type));
        }
      }
      out.EndObject();
    }
    out.EndArray();
    out.Key("unmappedColumns");
    out.StartArray();
    for (const auto& column : processor->unmapped_columns()) {
      out.String(column.data(), static_cast<rapidjson::SizeType>(column.size()));
    }
    out.EndArray();
  }

  std::uint64_t valid = 0;
  std::uint64_t blank = 0;
  for (const auto& row : rows) {
    valid += row.status == records::row_status::valid ? 1 : 0;
    blank += row.status == records::row_status::blank ? 1 : 0;
  }
  out.Key("rowsChecked");
  out.Uint64(rows.size());
  out.Key("validRows");
  out.Uint64(valid);
  out.Key("blankRows");
  out.Uint64(blank);
  out.Key("errors");
  out.StartArray();
  for (const auto& row : rows) {
    if (row.status == records::row_status::rejected && row.error) {
      const std::string entry = records::row_error_json(*row.error);
      out.RawValue(entry.data(), entry.size(), rapidjson::kObjectType);
    }
  }
  out.EndArray();
  out.EndObject();
  return std::string(buffer.GetString(), buffer.GetSize());
}

}  // namespace jobgate::gateway
