#include "worker/import_job.hpp"

#include <chrono>
#include <vector>

#include "common/records/import_record_counter.hpp"
#include "common/records/import_row_processor.hpp"
#include "common/records/property_catalog.hpp"

namespace jobgate::worker {

namespace {

constexpr std::size_t read_chunk_bytes = 64 * 1024;

using clock = std::chrono::steady_clock;

std::string json_string_array(const std::vector<std::string>& items) {
  rapidjson::StringBuffer buffer;
  json::writer out(buffer);
  out.StartArray();
  for (const auto& item : items) {
    out.String(item.data(), static_cast<rapidjson::SizeType>(item.size()));
  }
  out.EndArray();
  return std::string(buffer.GetString(), buffer.GetSize());
}

}  // namespace

job_outcome run_import(job_context& job) {
  auto request = records::import_request::from_json(job.request);
  if (!request) {
    return job_outcome::failed(std::string(request.error().slug()), request.error().detail);
  }
  const auto& catalog = job.catalog;

  auto reader = job.blobs.open(job.blob_key);
  if (!reader) {
    if (reader.error() == boost::system::errc::no_such_file_or_directory) {
      return job_outcome::failed("upload-missing",
                                 "The uploaded file is no longer in the blob store.");
    }
    return job_outcome::retry("the uploaded file cannot be opened: " + reader.error().message());
  }

  // Progress total first: a cheap pass that only finds record boundaries.
  {
    auto total = records::import_record_counter::count_data_records(
        **reader, request->options, [&job] { job.liveness.beat(); });
    if (!total) {
      return job_outcome::retry("the uploaded file cannot be read: " + total.error().message());
    }
    auto updated =
        job.store.update(job.job_id, job.attempt, {{"rowsTotal", std::to_string(*total)}});
    if (!updated) {
      return job_outcome::retry("Redis: " + updated.error().message());
    }
    if (auto stop = stop_reason(*updated)) {
      return *stop;
    }
    if (auto rewound = (*reader)->seek(0); !rewound) {
      return job_outcome::retry("the uploaded file cannot be read: " + rewound.error().message());
    }
  }

  std::optional<records::import_checkpoint> resume_from;
  if (job.started.checkpoint.end_offset > 0) {
    resume_from = job.started.checkpoint;
    job.logger.info(
        "import resumes from checkpoint",
        {{"offset", job.started.checkpoint.end_offset}, {"row", job.started.checkpoint.row}});
  }
  auto processor = records::import_row_processor::create(catalog, *request, resume_from);
  if (!processor) {
    return job_outcome::failed(std::string(processor.error().slug()), processor.error().detail);
  }

  worker_store::batch_target target;
  target.job_id = job.job_id;
  target.attempt = job.attempt;
  target.tenant = job.tenant;
  target.object_type = request->object_type;
  target.unique_property = processor->object_type().unique_property;
  target.from_offset = job.started.checkpoint.end_offset;

  std::vector<records::import_row> rows;
  rows.reserve(static_cast<std::size_t>(job.config.batch_rows) + 64);
  const auto interval = std::chrono::milliseconds(job.config.progress_interval_ms);
  auto last_flush = clock::now();

  // Sends the pending rows as a batch that moves the checkpoint to the last of them. The store
  // keeps up to worker_store::max_batches_in_flight batches in flight, so Redis applies one while
  // the next is parsed. Each batch starts where the one before ends, so when one is not applied
  // the script rejects every later one. A return before await_batches() leaves batches in flight,
  // and the store reads and drops their verdicts before its next command.
  const auto flush = [&]() -> std::optional<job_outcome> {
    if (rows.empty()) {
      return std::nullopt;
    }
    target.to = rows.back().checkpoint();
    auto sent = job.store.send_batch(target, rows);
    if (!sent) {
      return job_outcome::retry("Redis: " + sent.error().message());
    }
    if (auto stop = stop_reason(*sent)) {
      return stop;
    }
    target.from_offset = target.to.end_offset;
    rows.clear();
    last_flush = clock::now();
    return std::nullopt;
  };

  // Reads the verdicts of the batches in flight before a command that must run after them.
  const auto await_batches = [&]() -> std::optional<job_outcome> {
    auto applied = job.store.await_batches();
    if (!applied) {
      return job_outcome::retry("Redis: " + applied.error().message());
    }
    return stop_reason(*applied);
  };

  // The header cells go to the job hash once read, for the CSV error report. Every attempt writes
  // the same value, so a redelivered job may write it again.
  bool header_stored = false;
  const auto store_header = [&]() -> std::optional<job_outcome> {
    if (header_stored || !processor->header_read()) {
      return std::nullopt;
    }
    if (auto stop = await_batches()) {
      return stop;
    }
    auto stored = job.store.update(job.job_id, job.attempt,
                                   {{"headerCells", json_string_array(processor->header_cells())}});
    if (!stored) {
      return job_outcome::retry("Redis: " + stored.error().message());
    }
    if (auto stop = stop_reason(*stored)) {
      return stop;
    }
    header_stored = true;
    return std::nullopt;
  };

  std::vector<char> chunk(read_chunk_bytes);
  for (;;) {
    job.liveness.beat();
    if (job.stopping.load()) {
      return job_outcome::retry("the worker is stopping");
    }
    auto read = (*reader)->read(chunk.data(), chunk.size());
    if (!read) {
      return job_outcome::retry("the uploaded file cannot be read: " + read.error().message());
    }
    if (*read == 0) {
      break;
    }
    if (auto fed = processor->feed(std::string_view(chunk.data(), *read), rows); !fed) {
      return job_outcome::failed(std::string(fed.error().slug()), fed.error().detail);
    }
    if (auto seek = processor->take_seek_offset()) {
      if (auto moved = (*reader)->seek(*seek); !moved) {
        return job_outcome::retry("the uploaded file cannot be read: " + moved.error().message());
      }
    }
    if (auto stop = store_header()) {
      return *stop;
    }
    while (rows.size() >= static_cast<std::size_t>(job.config.batch_rows) ||
           (!rows.empty() && clock::now() - last_flush >= interval)) {
      if (auto stop = flush()) {
        return *stop;
      }
    }
  }
  if (auto finished = processor->finish(rows); !finished) {
    return job_outcome::failed(std::string(finished.error().slug()), finished.error().detail);
  }
  if (auto stop = store_header()) {
    return *stop;
  }
  if (auto stop = flush()) {
    return *stop;
  }
  if (auto stop = await_batches()) {
    return *stop;
  }

  if (!processor->unmapped_columns().empty()) {
    auto noted =
        job.store.update(job.job_id, job.attempt,
                         {{"unmappedColumns", json_string_array(processor->unmapped_columns())}});
    if (!noted) {
      return job_outcome::retry("Redis: " + noted.error().message());
    }
    if (auto stop = stop_reason(*noted)) {
      return *stop;
    }
  }
  return job_outcome::done();
}

}  // namespace jobgate::worker
