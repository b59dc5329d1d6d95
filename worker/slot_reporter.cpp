#include "worker/slot_reporter.hpp"

#include <unistd.h>

#include <array>
#include <climits>
#include <cstdio>
#include <random>

#include "common/jobs/store_keys.hpp"
#include "common/redis/error.hpp"
#include "common/redis/script.hpp"
#include "worker/backoff.hpp"

namespace jobgate::worker {

namespace {

// A report lapses after this many intervals without a new one.
constexpr int intervals_to_lapse = 3;

boost::system::result<void> run_slot_script(redis::connection& connection,
                                            const redis::script& script,
                                            std::span<const std::string_view> arguments) {
  const std::array<std::string_view, 2> keys{store_keys::worker_slots,
                                             store_keys::worker_slot_lapses};
  auto reply = script.run(connection, std::span<const std::string_view>(keys), arguments);
  if (!reply) {
    return reply.error();
  }
  if (!reply->is_integer()) {
    return redis::make_error_code(redis::errc::protocol_error);
  }
  return {};
}

}  // namespace

slot_reporter::slot_reporter(redis::redis_endpoint endpoint, std::string worker_id,
                             usage_source usage, std::chrono::milliseconds interval)
    : endpoint_(std::move(endpoint)),
      worker_id_(std::move(worker_id)),
      usage_(std::move(usage)),
      interval_(interval),
      logger_(log::logger{}.with("role", "slot-reporter")) {}

boost::system::result<void> slot_reporter::report(redis::connection& connection,
                                                  const std::string& worker_id,
                                                  std::span<const worker_slots::kind_slots> kinds,
                                                  std::chrono::milliseconds lapse) {
  const std::string text = worker_slots::format_report(kinds);
  const std::string lapse_text = std::to_string(lapse.count());
  const std::array<std::string_view, 3> arguments{worker_id, text, lapse_text};
  static const redis::script script(worker_slots::report_script);
  return run_slot_script(connection, script, arguments);
}

boost::system::result<void> slot_reporter::remove(redis::connection& connection,
                                                  const std::string& worker_id) {
  const std::array<std::string_view, 1> arguments{worker_id};
  static const redis::script script(worker_slots::remove_script);
  return run_slot_script(connection, script, arguments);
}

void slot_reporter::run(const std::atomic<bool>& stopping) {
  std::optional<redis::connection> connection;
  bool failing = false;
  while (!stopping.load()) {
    if (!connection) {
      auto opened = redis::connection::connect(endpoint_);
      if (opened) {
        connection.emplace(std::move(*opened));
      } else if (!failing) {
        logger_.warn("cannot reach Redis to report slots; retrying",
                     {{"error", opened.error().message()}});
      }
      failing = !opened;
    }
    if (connection) {
      const auto kinds = usage_();
      auto written = report(*connection, worker_id_, kinds, interval_ * intervals_to_lapse);
      if (!written && !failing) {
        logger_.warn("slot report failed; retrying", {{"error", written.error().message()}});
      }
      if (!written) {
        connection.reset();
      }
      failing = !written;
    }
    sleep_unless_stopping(interval_, stopping);
  }
  if (connection) {
    if (auto removed = remove(*connection, worker_id_); !removed) {
      logger_.warn("failed to remove the slot report; it lapses by itself",
                   {{"error", removed.error().message()}});
    }
  }
}

std::string make_worker_id() {
  std::array<char, HOST_NAME_MAX + 1> host{};
  if (gethostname(host.data(), host.size() - 1) != 0) {
    host[0] = '\0';
  }
  std::random_device random;
  std::array<char, 9> suffix{};
  std::snprintf(suffix.data(), suffix.size(), "%08x", static_cast<unsigned>(random()));
  return std::string(host.data()) + ":" + std::to_string(::getpid()) + ":" + suffix.data();
}

}  // namespace jobgate::worker
