#include "common/jobs/worker_slots.hpp"

#include <charconv>

namespace jobgate::worker_slots {

namespace {

std::optional<std::int64_t> parse_count(std::string_view text) {
  std::int64_t value = 0;
  const auto* end = text.data() + text.size();
  const auto [stop, error] = std::from_chars(text.data(), end, value);
  if (error != std::errc{} || stop != end || value < 0) {
    return std::nullopt;
  }
  return value;
}

std::optional<kind_slots> parse_kind(std::string_view item) {
  const auto first = item.find(':');
  const auto second = first == std::string_view::npos ? first : item.find(':', first + 1);
  if (second == std::string_view::npos) {
    return std::nullopt;
  }
  const auto kind = parse_job_kind(item.substr(0, first));
  const auto slots = parse_count(item.substr(first + 1, second - first - 1));
  const auto busy = parse_count(item.substr(second + 1));
  if (!kind || !slots || !busy || *busy > *slots) {
    return std::nullopt;
  }
  return kind_slots{*kind, *slots, *busy};
}

}  // namespace

std::string format_report(std::span<const kind_slots> kinds) {
  std::string text;
  for (const auto& entry : kinds) {
    if (!text.empty()) {
      text += ' ';
    }
    text += to_string(entry.kind);
    text += ':' + std::to_string(entry.slots) + ':' + std::to_string(entry.busy);
  }
  return text;
}

std::optional<std::vector<kind_slots>> parse_report(std::string_view text) {
  std::vector<kind_slots> kinds;
  if (text.empty()) {
    return kinds;
  }
  while (true) {
    const auto space = text.find(' ');
    const auto entry = parse_kind(text.substr(0, space));
    if (!entry) {
      return std::nullopt;
    }
    kinds.push_back(*entry);
    if (space == std::string_view::npos) {
      return kinds;
    }
    text.remove_prefix(space + 1);
  }
}

std::map<job_kind, fleet_slots> sum_reports(const redis::reply& reports) {
  std::map<job_kind, fleet_slots> fleet;
  for (const auto report : reports) {
    const auto kinds = report.is_string() ? parse_report(report.text()) : std::nullopt;
    if (!kinds) {
      continue;
    }
    for (const auto& entry : *kinds) {
      auto& sum = fleet[entry.kind];
      sum.workers += 1;
      sum.slots += entry.slots;
      sum.busy += entry.busy;
    }
  }
  return fleet;
}

// The server's clock decides when reports lapse, so workers and gateways on hosts whose clocks
// disagree still agree on which reports are live.
const std::string_view report_script = R"lua(
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
redis.call('ZADD', KEYS[2], now + tonumber(ARGV[3]), ARGV[1])
local lapsed = redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', now, 'LIMIT', 0, 100)
for _, id in ipairs(lapsed) do
  redis.call('HDEL', KEYS[1], id)
  redis.call('ZREM', KEYS[2], id)
end
return #lapsed
)lua";

const std::string_view remove_script = R"lua(
redis.call('HDEL', KEYS[1], ARGV[1])
redis.call('ZREM', KEYS[2], ARGV[1])
return 1
)lua";

// HMGET takes the live ids in chunks, since Lua's unpack has a limit on its arguments.
const std::string_view read_script = R"lua(
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
local live = redis.call('ZRANGEBYSCORE', KEYS[2], '(' .. now, '+inf')
local reports = {}
for first = 1, #live, 500 do
  local last = math.min(first + 499, #live)
  local chunk = redis.call('HMGET', KEYS[1], unpack(live, first, last))
  for _, report in ipairs(chunk) do
    if report then
      reports[#reports + 1] = report
    end
  end
end
return reports
)lua";

}  // namespace jobgate::worker_slots
