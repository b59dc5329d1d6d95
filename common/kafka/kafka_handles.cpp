#include "common/kafka/kafka_handles.hpp"

#include <librdkafka/rdkafka.h>

namespace jobgate::kafka {

void handle_deleter::operator()(rd_kafka_s* handle) const noexcept {
  rd_kafka_destroy(handle);
}

void handle_deleter::operator()(rd_kafka_conf_s* conf) const noexcept {
  rd_kafka_conf_destroy(conf);
}

void handle_deleter::operator()(rd_kafka_queue_s* queue) const noexcept {
  rd_kafka_queue_destroy(queue);
}

void handle_deleter::operator()(rd_kafka_op_s* event) const noexcept {
  rd_kafka_event_destroy(event);
}

void handle_deleter::operator()(rd_kafka_error_s* error) const noexcept {
  rd_kafka_error_destroy(error);
}

void handle_deleter::operator()(rd_kafka_headers_s* headers) const noexcept {
  rd_kafka_headers_destroy(headers);
}

void handle_deleter::operator()(rd_kafka_message_s* message) const noexcept {
  rd_kafka_message_destroy(message);
}

void handle_deleter::operator()(rd_kafka_topic_partition_list_s* list) const noexcept {
  rd_kafka_topic_partition_list_destroy(list);
}

void handle_deleter::operator()(const struct rd_kafka_metadata* metadata) const noexcept {
  rd_kafka_metadata_destroy(metadata);
}

void handle_deleter::operator()(rd_kafka_AdminOptions_s* options) const noexcept {
  rd_kafka_AdminOptions_destroy(options);
}

void handle_deleter::operator()(rd_kafka_NewTopic_s* topic) const noexcept {
  rd_kafka_NewTopic_destroy(topic);
}

}  // namespace jobgate::kafka
