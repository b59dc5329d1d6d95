#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace jobgate::kafka {

// A Kafka record header. Kafka allows repeated names, so headers are a list, kept in order.
struct kafka_header {
  std::string name;
  std::string value;

  friend bool operator==(const kafka_header&, const kafka_header&) = default;
};

using kafka_headers = std::vector<kafka_header>;

struct kafka_topic_partition {
  std::string topic;
  std::int32_t partition = -1;

  friend bool operator==(const kafka_topic_partition&, const kafka_topic_partition&) = default;
};

// A consumed record, copied out of librdkafka's buffers so it outlives the consumer. A null key,
// value or header value arrives as an empty string.
struct kafka_message {
  std::string topic;
  std::int32_t partition = -1;
  std::int64_t offset = -1;
  std::string key;
  std::string value;
  kafka_headers headers;
  // Record timestamp in milliseconds since the Unix epoch, or -1 when the record has none.
  std::int64_t timestamp_ms = -1;

  // The value of the first header with this name, or an empty view when there is none.
  std::string_view header(std::string_view name) const {
    for (const auto& entry : headers) {
      if (entry.name == name) {
        return entry.value;
      }
    }
    return {};
  }
};

}  // namespace jobgate::kafka
