#include "common/kafka/kafka_conf_builder.hpp"

#include <librdkafka/rdkafka.h>
#include <spdlog/spdlog.h>

#include <stdexcept>
#include <string>

#include "common/kafka/tsan_thread_shim.hpp"
#include "common/log/logger.hpp"

namespace jobgate::kafka {
namespace {

// librdkafka calls this on its own threads; it must not throw.
void log_from_librdkafka(const rd_kafka_t* handle, int syslog_level, const char* facility,
                         const char* message) noexcept {
  try {
    spdlog::level::level_enum level = spdlog::level::debug;
    if (syslog_level <= 2) {
      level = spdlog::level::critical;
    } else if (syslog_level == 3) {
      level = spdlog::level::err;
    } else if (syslog_level == 4) {
      level = spdlog::level::warn;
    } else if (syslog_level <= 6) {
      level = spdlog::level::info;
    }
    log::logger{}
        .with("component", "librdkafka")
        .with("client", rd_kafka_name(handle))
        .with("facility", facility)
        .write(log::level_from_spdlog(level), message, {});
  } catch (...) {
    // Logging must never take the client thread down.
  }
}

void set_property(rd_kafka_conf_t* conf, std::string_view name, std::string_view value) {
  const std::string name_text(name);
  const std::string value_text(value);
  char error[512] = {};
  if (rd_kafka_conf_set(conf, name_text.c_str(), value_text.c_str(), error, sizeof error) !=
      RD_KAFKA_CONF_OK) {
    // Passwords and keys must not reach logs through the start-up error.
    const bool secret = name_text.find("password") != std::string::npos ||
                        name_text.find("secret") != std::string::npos ||
                        name_text.find(".key") != std::string::npos;
    throw std::invalid_argument("invalid Kafka client setting " + name_text + "=" +
                                (secret ? std::string("(hidden)") : value_text) + ": " + error);
  }
}

}  // namespace

conf_handle build_conf(const kafka_config& config, std::initializer_list<conf_setting> defaults) {
  if (config.brokers.empty()) {
    throw std::invalid_argument("Kafka brokers (bootstrap.servers) must not be empty");
  }
  link_tsan_thread_shim();
  conf_handle conf(rd_kafka_conf_new());
  set_property(conf.get(), "bootstrap.servers", config.brokers);
  set_property(conf.get(), "client.id", config.client_id);
  for (const auto& [name, value] : defaults) {
    set_property(conf.get(), name, value);
  }
  for (const auto& [name, value] : config.overrides) {
    set_property(conf.get(), name, value);
  }
  rd_kafka_conf_set_log_cb(conf.get(), &log_from_librdkafka);
  return conf;
}

}  // namespace jobgate::kafka
