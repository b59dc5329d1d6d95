#include "common/records/row_error_json.hpp"

#include "common/json/json.hpp"

namespace jobgate::records {

std::string row_error_json(const records::row_error& error) {
  rapidjson::StringBuffer buffer;
  json::writer out(buffer);
  out.StartObject();
  out.Key("row");
  out.Uint64(error.row);
  out.Key("line");
  out.Uint64(error.line);
  json::write_string(out, "kind", to_string(error.kind));
  if (!error.column.empty()) {
    json::write_string(out, "column", error.column);
  }
  if (!error.property.empty()) {
    json::write_string(out, "property", error.property);
  }
  if (!error.value.empty()) {
    json::write_string(out, "value", error.value);
  }
  if (!error.detail.empty()) {
    json::write_string(out, "detail", error.detail);
  }
  if (!error.cells.empty()) {
    out.Key("cells");
    out.StartArray();
    for (const auto& cell : error.cells) {
      out.String(cell.data(), static_cast<rapidjson::SizeType>(cell.size()));
    }
    out.EndArray();
  }
  if (error.cells_cut) {
    out.Key("cellsCut");
    out.Bool(true);
  }
  out.EndObject();
  return std::string(buffer.GetString(), buffer.GetSize());
}

}  // namespace jobgate::records
