#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <system_error>
#include <type_traits>
#include <utility>

namespace jobgate::kafka {

// Delivery report for one produced message.
struct kafka_delivery {
  // Empty when the broker stored the message; see kafka_errc for the classes of failure.
  std::error_code error;
  std::string topic;
  std::int32_t partition = -1;
  // Offset the broker assigned, or -1 when delivery failed.
  std::int64_t offset = -1;
};

// Type-erased, move-only completion for one produced message, so that Asio completion handlers
// (which may be move-only) can be passed as they are.
class delivery_callback {
 public:
  virtual ~delivery_callback() = default;
  virtual void complete(const kafka_delivery& delivery) = 0;

  template <typename Handler>
  static std::unique_ptr<delivery_callback> wrap(Handler&& handler);
};

namespace detail {

template <typename Handler>
class delivery_callback_impl final : public delivery_callback {
 public:
  explicit delivery_callback_impl(Handler handler) : handler_(std::move(handler)) {}
  void complete(const kafka_delivery& delivery) override { std::move(handler_)(delivery); }

 private:
  Handler handler_;
};

}  // namespace detail

template <typename Handler>
std::unique_ptr<delivery_callback> delivery_callback::wrap(Handler&& handler) {
  using stored = std::decay_t<Handler>;
  return std::make_unique<detail::delivery_callback_impl<stored>>(std::forward<Handler>(handler));
}

}  // namespace jobgate::kafka
