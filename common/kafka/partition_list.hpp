#pragma once

#include <vector>

#include "common/kafka/kafka_handles.hpp"
#include "common/kafka/kafka_message.hpp"

namespace jobgate::kafka {

// Converts between kafka_topic_partition values and librdkafka's rd_kafka_topic_partition_list_t.
partition_list_handle make_partition_list(const std::vector<kafka_topic_partition>& partitions);

std::vector<kafka_topic_partition> to_topic_partitions(
    const ::rd_kafka_topic_partition_list_s& list);

}  // namespace jobgate::kafka
