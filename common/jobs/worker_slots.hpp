#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/jobs/job.hpp"
#include "common/redis/reply.hpp"

// Slot reports: each worker process writes its processing slots and how many of them run a job to
// Redis every few seconds, so the gateway can show the whole fleet's utilisation on one page. A
// report lapses when its worker misses three intervals, so a killed worker drops out by itself.
namespace jobgate::worker_slots {

// The slots of one kind in one worker process.
struct kind_slots {
  job_kind kind = job_kind::imports;
  std::int64_t slots = 0;
  std::int64_t busy = 0;

  bool operator==(const kind_slots&) const = default;
};

// The slots of one kind summed over the live worker processes that serve it.
struct fleet_slots {
  std::int64_t workers = 0;
  std::int64_t slots = 0;
  std::int64_t busy = 0;
};

// A report as stored: "KIND:SLOTS:BUSY" per kind, separated by spaces, e.g.
// "imports:4:1 exports:2:0".
std::string format_report(std::span<const kind_slots> kinds);
// nullopt when the text is not a report that format_report writes.
std::optional<std::vector<kind_slots>> parse_report(std::string_view text);

// Sums the reports that read_script returned and skips the ones that do not parse.
std::map<job_kind, fleet_slots> sum_reports(const redis::reply& reports);

// KEYS: worker slots hash, lapses sorted set. ARGV: worker id, report, lapse millis.
// Stores the report, moves the worker's lapse to the server's time plus lapse millis, and removes
// at most 100 reports that lapsed. Returns the number removed.
extern const std::string_view report_script;

// KEYS: worker slots hash, lapses sorted set. ARGV: worker id.
// Removes the worker's report, for a worker that stops. Returns 1.
extern const std::string_view remove_script;

// KEYS: worker slots hash, lapses sorted set.
// Returns the reports of the workers whose lapse is after the server's time. Writes nothing.
extern const std::string_view read_script;

}  // namespace jobgate::worker_slots
