#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace jobgate::metrics {

// Label values of one time series, in the order of its family's label names.
using label_values = std::vector<std::string>;

// A count that only grows, such as requests served.
class counter {
 public:
  void increment(std::uint64_t by = 1) noexcept { value_.fetch_add(by, std::memory_order_relaxed); }
  std::uint64_t value() const noexcept { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<std::uint64_t> value_{0};
};

// A value that goes up and down, such as busy processing slots.
class gauge {
 public:
  void set(double value) noexcept { value_.store(value, std::memory_order_relaxed); }
  void add(double delta) noexcept { value_.fetch_add(delta, std::memory_order_relaxed); }
  double value() const noexcept { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<double> value_{0.0};
};

// Counts observations into cumulative buckets with upper bounds, as Prometheus histograms do.
class histogram {
 public:
  // `bounds` are the buckets' upper bounds in increasing order; +Inf is implied.
  explicit histogram(std::vector<double> bounds);

  void observe(double value) noexcept;

  struct snapshot {
    std::vector<double> bounds;
    std::vector<std::uint64_t> cumulative;  // one per bound, then the +Inf bucket
    double sum = 0;
    std::uint64_t count = 0;
  };
  snapshot read() const;

 private:
  std::vector<double> bounds_;
  std::unique_ptr<std::atomic<std::uint64_t>[]> buckets_;  // per bucket, not cumulative
  std::atomic<double> sum_{0.0};
  std::atomic<std::uint64_t> count_{0};
};

// Writes the Prometheus text exposition format, version 0.0.4.
class exposition {
 public:
  // Starts a family with its HELP and TYPE lines; type is counter, gauge or histogram.
  void begin_family(std::string_view name, std::string_view help, std::string_view type);
  void sample(std::string_view name, const std::vector<std::pair<std::string, std::string>>& labels,
              double value);

  const std::string& text() const noexcept { return text_; }

 private:
  std::string text_;
};

// A named metric with label names, holding one series per combination of label values.
template <typename Metric>
class family {
 public:
  family(std::string name, std::string help, std::vector<std::string> label_names,
         std::function<std::unique_ptr<Metric>()> make)
      : name_(std::move(name)),
        help_(std::move(help)),
        label_names_(std::move(label_names)),
        make_(std::move(make)) {}

  // The series for these label values, created at first use. Throws std::invalid_argument when
  // the number of values differs from the number of label names. References stay valid for the
  // family's lifetime, so callers may keep them.
  Metric& with(const label_values& values);

  const std::string& name() const noexcept { return name_; }
  const std::string& help() const noexcept { return help_; }
  const std::vector<std::string>& label_names() const noexcept { return label_names_; }

  // Calls visit(values, metric) for every series, in label order.
  template <typename Visitor>
  void for_each(Visitor&& visit) const {
    std::lock_guard lock(mutex_);
    for (const auto& [values, metric] : series_) {
      visit(values, *metric);
    }
  }

 private:
  std::string name_;
  std::string help_;
  std::vector<std::string> label_names_;
  std::function<std::unique_ptr<Metric>()> make_;
  mutable std::mutex mutex_;
  std::map<label_values, std::unique_ptr<Metric>> series_;
};

// The metrics of one process. Families are added at start-up; series are created and updated from
// any thread.
class registry {
 public:
  family<counter>& add_counter(std::string name, std::string help,
                               std::vector<std::string> label_names = {});
  family<gauge>& add_gauge(std::string name, std::string help,
                           std::vector<std::string> label_names = {});
  family<histogram>& add_histogram(std::string name, std::string help,
                                   std::vector<std::string> label_names,
                                   std::vector<double> bounds);

  // Adds families computed at scrape time from elsewhere, such as Kafka consumer lag. The
  // collector runs on the scraping thread and writes whole families.
  void add_collector(std::function<void(exposition&)> collector);

  // Every family in the text exposition format, in the order they were added, collectors last.
  std::string render() const;

 private:
  mutable std::mutex mutex_;
  std::vector<std::unique_ptr<family<counter>>> counters_;
  std::vector<std::unique_ptr<family<gauge>>> gauges_;
  std::vector<std::unique_ptr<family<histogram>>> histograms_;
  // The families in the order they were added: the kind (0 counter, 1 gauge, 2 histogram) and
  // the index in that kind's list.
  std::vector<std::pair<int, std::size_t>> order_;
  std::vector<std::function<void(exposition&)>> collectors_;
};

// Upper bounds in seconds from 5 ms to 10 minutes, for request latencies and job durations.
std::vector<double> latency_bounds();

}  // namespace jobgate::metrics
