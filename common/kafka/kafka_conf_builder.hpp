#pragma once

#include <initializer_list>
#include <string_view>
#include <utility>

#include "common/kafka/kafka_config.hpp"
#include "common/kafka/kafka_handles.hpp"

namespace jobgate::kafka {

// A librdkafka property name and value.
using conf_setting = std::pair<std::string_view, std::string_view>;

// Builds an rd_kafka_conf_t from config: bootstrap.servers and client.id, then the caller's
// defaults, then config.overrides. librdkafka's log lines go to spdlog. Throws
// std::invalid_argument naming the property when librdkafka rejects a name or value, because an
// invalid setting is a start-up error.
conf_handle build_conf(const kafka_config& config, std::initializer_list<conf_setting> defaults);

}  // namespace jobgate::kafka
