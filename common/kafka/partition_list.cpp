#include "common/kafka/partition_list.hpp"

#include <librdkafka/rdkafka.h>

namespace jobgate::kafka {

partition_list_handle make_partition_list(const std::vector<kafka_topic_partition>& partitions) {
  partition_list_handle list(
      rd_kafka_topic_partition_list_new(static_cast<int>(partitions.size())));
  for (const kafka_topic_partition& partition : partitions) {
    rd_kafka_topic_partition_list_add(list.get(), partition.topic.c_str(), partition.partition);
  }
  return list;
}

std::vector<kafka_topic_partition> to_topic_partitions(
    const rd_kafka_topic_partition_list_t& list) {
  std::vector<kafka_topic_partition> partitions;
  partitions.reserve(static_cast<std::size_t>(list.cnt));
  for (int i = 0; i < list.cnt; ++i) {
    partitions.push_back({list.elems[i].topic, list.elems[i].partition});
  }
  return partitions;
}

}  // namespace jobgate::kafka
