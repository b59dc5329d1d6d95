#include "worker/export_job.hpp"

#include <algorithm>
#include <chrono>

#include "common/blob/blob_keys.hpp"
#include "common/csv/csv_writer.hpp"
#include "common/records/property_catalog.hpp"
#include "common/records/record_filter.hpp"

namespace jobgate::worker {

namespace {

constexpr std::int64_t page_records = 1000;

// A filter and the index of its property in the fetched values.
struct column_filter {
  records::record_filter filter;
  std::size_t column = 0;
};

bool passes(const std::vector<column_filter>& filters,
            const std::vector<std::optional<std::string>>& values) {
  return std::all_of(filters.begin(), filters.end(), [&values](const column_filter& entry) {
    const auto& value = values[entry.column];
    return entry.filter.matches(value ? std::optional<std::string_view>(*value) : std::nullopt);
  });
}

void append_ndjson_line(std::string& out, const std::vector<std::string>& properties,
                        const std::vector<std::optional<std::string>>& values) {
  rapidjson::StringBuffer buffer;
  json::writer line(buffer);
  line.StartObject();
  for (std::size_t i = 0; i < properties.size(); ++i) {
    if (values[i]) {
      json::write_string(line, properties[i], *values[i]);
    }
  }
  line.EndObject();
  out.append(buffer.GetString(), buffer.GetSize());
  out += '\n';
}

}  // namespace

job_outcome run_export(job_context& job, field_list& result_fields) {
  const std::string object_type(json::get_string(job.request, "objectType").value_or(""));
  const std::string format(json::get_string(job.request, "format").value_or("csv"));
  std::vector<std::string> properties;
  if (const auto* names = json::get_array(job.request, "properties")) {
    for (const auto& name : names->GetArray()) {
      properties.emplace_back(name.GetString(), name.GetStringLength());
    }
  }
  const std::size_t exported_columns = properties.size();

  // Filter properties are fetched after the exported ones, in the same HMGET. The gateway
  // checked the filters already, so a failure here means the stored request is inconsistent.
  const auto& catalog = job.catalog;
  std::vector<column_filter> filters;
  if (const auto* list = json::get_array(job.request, "filters")) {
    for (rapidjson::SizeType i = 0; i < list->Size(); ++i) {
      const auto& item = (*list)[i];
      const std::string name(json::get_string(item, "propertyName").value_or(""));
      const auto* property = catalog.find_property(object_type, name);
      if (property == nullptr) {
        return job_outcome::failed("invalid-request", "The filter " + std::to_string(i) +
                                                          " names the unknown property '" + name +
                                                          "' of " + object_type + ".");
      }
      auto filter = records::record_filter::from_json(item, *property);
      if (!filter) {
        return job_outcome::failed("invalid-request", "The filter " + std::to_string(i) +
                                                          " is invalid: " + filter.error().message);
      }
      const auto found = std::find(properties.begin(), properties.end(), name);
      const auto column = static_cast<std::size_t>(found - properties.begin());
      if (found == properties.end()) {
        properties.push_back(name);
      }
      filters.push_back(column_filter{std::move(*filter), column});
    }
  }

  const bool ndjson = format == "ndjson";
  const std::string key =
      blob_keys::export_result(job.tenant, job.job_id, ndjson ? "ndjson" : "csv");
  auto created = job.blobs.create(key);
  if (!created) {
    return job_outcome::retry("the export file cannot be created: " + created.error().message());
  }
  blob_writer& writer = **created;

  csv::csv_writer csv_out([&writer](std::string_view bytes) -> boost::system::error_code {
    auto written = writer.write(bytes);
    return written ? boost::system::error_code{} : written.error();
  });
  // On by default, although it also prefixes phone numbers such as +4915... and negative numbers.
  if (json::get_bool(job.request, "csvFormulaEscape").value_or(true)) {
    csv_out.set_formula_escape(csv::formula_escape::single_quote);
  }
  if (!ndjson) {
    for (std::size_t i = 0; i < exported_columns; ++i) {
      csv_out.write_field(properties[i]);
    }
    csv_out.end_record();
  }

  const std::int64_t total = job.store.record_count(job.tenant, object_type);
  if (total >= 0) {
    auto noted = job.store.update(job.job_id, job.attempt, {{"rowsTotal", std::to_string(total)}});
    if (noted) {
      if (auto stop = stop_reason(*noted)) {
        return *stop;
      }
    }
  }

  std::int64_t exported = 0;
  std::string lines;
  for (std::int64_t start = 0;; start += page_records) {
    job.liveness.beat();
    // A filter that matches little can leave the file unwritten for long, and the sweepers
    // delete partial files that stay untouched.
    if (auto touched = writer.touch(); !touched) {
      return job_outcome::retry("the export file cannot be written: " + touched.error().message());
    }
    if (job.stopping.load()) {
      return job_outcome::retry("the worker is stopping");
    }
    auto ids = job.store.record_ids(job.tenant, object_type, start, page_records);
    if (!ids) {
      return job_outcome::retry("Redis: " + ids.error().message());
    }
    if (ids->empty()) {
      break;
    }
    auto values = job.store.record_values(job.tenant, object_type, *ids, properties);
    if (!values) {
      return job_outcome::retry("Redis: " + values.error().message());
    }

    lines.clear();
    for (const auto& record : *values) {
      if (!passes(filters, record)) {
        continue;
      }
      ++exported;
      if (ndjson) {
        append_ndjson_line(lines, properties, record);
      } else {
        for (std::size_t i = 0; i < exported_columns; ++i) {
          csv_out.write_field(record[i] ? std::string_view(*record[i]) : std::string_view{});
        }
        csv_out.end_record();
      }
    }
    if (ndjson && !lines.empty()) {
      if (auto written = writer.write(lines); !written) {
        return job_outcome::retry("the export file cannot be written: " +
                                  written.error().message());
      }
    }

    auto progress = job.store.update(
        job.job_id, job.attempt,
        {{"rowsProcessed", std::to_string(start + static_cast<std::int64_t>(ids->size()))}});
    if (!progress) {
      return job_outcome::retry("Redis: " + progress.error().message());
    }
    if (auto stop = stop_reason(*progress)) {
      return *stop;
    }
    if (static_cast<std::int64_t>(ids->size()) < page_records) {
      break;
    }
  }

  if (auto flushed = csv_out.flush()) {
    return job_outcome::retry("the export file cannot be written: " + flushed.message());
  }
  const std::uint64_t bytes = writer.bytes_written();
  if (auto committed = writer.commit(); !committed) {
    return job_outcome::retry("the export file cannot be written: " + committed.error().message());
  }
  result_fields = {{"resultKey", key},
                   {"resultBytes", std::to_string(bytes)},
                   {"rowsProcessed", std::to_string(exported)},
                   {"rowsTotal", std::to_string(exported)}};
  return job_outcome::done();
}

}  // namespace jobgate::worker
