#include "worker/export_job.hpp"

#include <algorithm>
#include <chrono>

#include "common/csv/csv_writer.hpp"

namespace jobgate::worker {

namespace {

constexpr std::int64_t page_records = 1000;

struct record_filter {
  enum class op { eq, neq, has_property, not_has_property };
  std::size_t column = 0;  // index of the property in the fetched values
  op kind = op::eq;
  std::string value;
};

bool equals_ignoring_case(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

bool passes(const std::vector<record_filter>& filters,
            const std::vector<std::optional<std::string>>& values) {
  for (const auto& filter : filters) {
    const auto& value = values[filter.column];
    switch (filter.kind) {
      case record_filter::op::eq:
        if (!value || !equals_ignoring_case(*value, filter.value)) {
          return false;
        }
        break;
      case record_filter::op::neq:
        if (value && equals_ignoring_case(*value, filter.value)) {
          return false;
        }
        break;
      case record_filter::op::has_property:
        if (!value) {
          return false;
        }
        break;
      case record_filter::op::not_has_property:
        if (value) {
          return false;
        }
        break;
    }
  }
  return true;
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

  // Filter properties are fetched after the exported ones, in the same HMGET.
  std::vector<record_filter> filters;
  if (const auto* list = json::get_array(job.request, "filters")) {
    for (const auto& item : list->GetArray()) {
      record_filter filter;
      const std::string name(json::get_string(item, "propertyName").value_or(""));
      const auto op = json::get_string(item, "operator").value_or("EQ");
      filter.kind = op == "NEQ"                ? record_filter::op::neq
                    : op == "HAS_PROPERTY"     ? record_filter::op::has_property
                    : op == "NOT_HAS_PROPERTY" ? record_filter::op::not_has_property
                                               : record_filter::op::eq;
      filter.value = std::string(json::get_string(item, "value").value_or(""));
      const auto found = std::find(properties.begin(), properties.end(), name);
      filter.column = static_cast<std::size_t>(found - properties.begin());
      if (found == properties.end()) {
        properties.push_back(name);
      }
      filters.push_back(std::move(filter));
    }
  }

  const bool ndjson = format == "ndjson";
  const std::string key = job.tenant + "/exports/" + job.job_id + (ndjson ? ".ndjson" : ".csv");
  auto created = job.blobs.create(key);
  if (!created) {
    return job_outcome::retry("the export file cannot be created: " + created.error().message());
  }
  blob_writer& writer = **created;

  // TODO: values starting with '=', '+', '-' or '@' reach spreadsheets as formulas; the export
  // writes them unchanged because '+' also starts phone numbers.
  csv::csv_writer csv_out([&writer](std::string_view bytes) -> boost::system::error_code {
    auto written = writer.write(bytes);
    return written ? boost::system::error_code{} : written.error();
  });
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
