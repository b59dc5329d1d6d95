#pragma once

#include <memory>

// librdkafka's handle types, declared here so that public headers need not include rdkafka.h.
extern "C" {
struct rd_kafka_s;
struct rd_kafka_conf_s;
struct rd_kafka_queue_s;
struct rd_kafka_op_s;
struct rd_kafka_error_s;
struct rd_kafka_headers_s;
struct rd_kafka_message_s;
struct rd_kafka_topic_partition_list_s;
struct rd_kafka_metadata;
struct rd_kafka_AdminOptions_s;
struct rd_kafka_NewTopic_s;
}

namespace jobgate::kafka {

// Deleters for librdkafka's handles; each calls the matching destroy function. The destroy calls
// live only here, in kafka_handles.cpp.
struct handle_deleter {
  void operator()(rd_kafka_s* handle) const noexcept;
  void operator()(rd_kafka_conf_s* conf) const noexcept;
  void operator()(rd_kafka_queue_s* queue) const noexcept;
  void operator()(rd_kafka_op_s* event) const noexcept;
  void operator()(rd_kafka_error_s* error) const noexcept;
  void operator()(rd_kafka_headers_s* headers) const noexcept;
  void operator()(rd_kafka_message_s* message) const noexcept;
  void operator()(rd_kafka_topic_partition_list_s* list) const noexcept;
  void operator()(const struct rd_kafka_metadata* metadata) const noexcept;
  void operator()(rd_kafka_AdminOptions_s* options) const noexcept;
  void operator()(rd_kafka_NewTopic_s* topic) const noexcept;
};

// A client instance (rd_kafka_t). Destroying it does not close a consumer: call
// rd_kafka_consumer_close first.
using client_handle = std::unique_ptr<rd_kafka_s, handle_deleter>;
// A configuration (rd_kafka_conf_t) until rd_kafka_new takes it over; release it then.
using conf_handle = std::unique_ptr<rd_kafka_conf_s, handle_deleter>;
using queue_handle = std::unique_ptr<rd_kafka_queue_s, handle_deleter>;
using event_handle = std::unique_ptr<rd_kafka_op_s, handle_deleter>;
using error_handle = std::unique_ptr<rd_kafka_error_s, handle_deleter>;
// Headers until rd_kafka_producev takes them over on success; release them then.
using headers_handle = std::unique_ptr<rd_kafka_headers_s, handle_deleter>;
using message_handle = std::unique_ptr<rd_kafka_message_s, handle_deleter>;
using partition_list_handle = std::unique_ptr<rd_kafka_topic_partition_list_s, handle_deleter>;
using metadata_handle = std::unique_ptr<const struct rd_kafka_metadata, handle_deleter>;
using admin_options_handle = std::unique_ptr<rd_kafka_AdminOptions_s, handle_deleter>;
using new_topic_handle = std::unique_ptr<rd_kafka_NewTopic_s, handle_deleter>;

}  // namespace jobgate::kafka
