#include "common/metrics/metrics_registry.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <stdexcept>

namespace jobgate::metrics {

namespace {

void append_number(std::string& out, double value) {
  if (std::isinf(value)) {
    out += value > 0 ? "+Inf" : "-Inf";
    return;
  }
  if (std::isnan(value)) {
    out += "NaN";
    return;
  }
  char buffer[32];
  const auto [end, error] = std::to_chars(buffer, buffer + sizeof buffer, value);
  out.append(buffer, error == std::errc() ? end : buffer);
}

// Label values escape backslash, double quote and line feed; HELP text escapes the first and
// the last.
void append_escaped(std::string& out, std::string_view text, bool quote_too) {
  for (const char c : text) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '\n') {
      out += "\\n";
    } else if (c == '"' && quote_too) {
      out += "\\\"";
    } else {
      out += c;
    }
  }
}

std::vector<std::pair<std::string, std::string>> zip(const std::vector<std::string>& names,
                                                     const label_values& values) {
  std::vector<std::pair<std::string, std::string>> labels;
  for (std::size_t i = 0; i < names.size() && i < values.size(); ++i) {
    labels.emplace_back(names[i], values[i]);
  }
  return labels;
}

}  // namespace

histogram::histogram(std::vector<double> bounds)
    : bounds_(std::move(bounds)),
      buckets_(std::make_unique<std::atomic<std::uint64_t>[]>(bounds_.size() + 1)) {
  if (!std::is_sorted(bounds_.begin(), bounds_.end())) {
    throw std::invalid_argument("histogram bounds must be in increasing order");
  }
}

void histogram::observe(double value) noexcept {
  const auto bucket = static_cast<std::size_t>(
      std::lower_bound(bounds_.begin(), bounds_.end(), value) - bounds_.begin());
  buckets_[bucket].fetch_add(1, std::memory_order_relaxed);
  sum_.fetch_add(value, std::memory_order_relaxed);
  count_.fetch_add(1, std::memory_order_relaxed);
}

histogram::snapshot histogram::read() const {
  snapshot result;
  result.bounds = bounds_;
  std::uint64_t running = 0;
  for (std::size_t i = 0; i <= bounds_.size(); ++i) {
    running += buckets_[i].load(std::memory_order_relaxed);
    result.cumulative.push_back(running);
  }
  result.sum = sum_.load(std::memory_order_relaxed);
  // The count is the +Inf bucket, so the two always agree within one snapshot.
  result.count = running;
  return result;
}

void exposition::begin_family(std::string_view name, std::string_view help, std::string_view type) {
  text_.append("# HELP ").append(name).append(" ");
  append_escaped(text_, help, false);
  text_.append("\n# TYPE ").append(name).append(" ").append(type).append("\n");
}

void exposition::sample(std::string_view name,
                        const std::vector<std::pair<std::string, std::string>>& labels,
                        double value) {
  text_.append(name);
  if (!labels.empty()) {
    text_ += '{';
    for (std::size_t i = 0; i < labels.size(); ++i) {
      if (i > 0) {
        text_ += ',';
      }
      text_.append(labels[i].first).append("=\"");
      append_escaped(text_, labels[i].second, true);
      text_ += '"';
    }
    text_ += '}';
  }
  text_ += ' ';
  append_number(text_, value);
  text_ += '\n';
}

template <typename Metric>
Metric& family<Metric>::with(const label_values& values) {
  if (values.size() != label_names_.size()) {
    throw std::invalid_argument("metric " + name_ + " takes " +
                                std::to_string(label_names_.size()) + " label values, not " +
                                std::to_string(values.size()));
  }
  std::lock_guard lock(mutex_);
  auto found = series_.find(values);
  if (found == series_.end()) {
    found = series_.emplace(values, make_()).first;
  }
  return *found->second;
}

template class family<counter>;
template class family<gauge>;
template class family<histogram>;

family<counter>& registry::add_counter(std::string name, std::string help,
                                       std::vector<std::string> label_names) {
  std::lock_guard lock(mutex_);
  counters_.push_back(
      std::make_unique<family<counter>>(std::move(name), std::move(help), std::move(label_names),
                                        [] { return std::make_unique<counter>(); }));
  order_.emplace_back(0, counters_.size() - 1);
  return *counters_.back();
}

family<gauge>& registry::add_gauge(std::string name, std::string help,
                                   std::vector<std::string> label_names) {
  std::lock_guard lock(mutex_);
  gauges_.push_back(std::make_unique<family<gauge>>(std::move(name), std::move(help),
                                                    std::move(label_names),
                                                    [] { return std::make_unique<gauge>(); }));
  order_.emplace_back(1, gauges_.size() - 1);
  return *gauges_.back();
}

family<histogram>& registry::add_histogram(std::string name, std::string help,
                                           std::vector<std::string> label_names,
                                           std::vector<double> bounds) {
  std::lock_guard lock(mutex_);
  histograms_.push_back(std::make_unique<family<histogram>>(
      std::move(name), std::move(help), std::move(label_names),
      [bounds] { return std::make_unique<histogram>(bounds); }));
  order_.emplace_back(2, histograms_.size() - 1);
  return *histograms_.back();
}

void registry::add_collector(std::function<void(exposition&)> collector) {
  std::lock_guard lock(mutex_);
  collectors_.push_back(std::move(collector));
}

std::string registry::render() const {
  exposition out;
  std::vector<std::function<void(exposition&)>> collectors;
  {
    std::lock_guard lock(mutex_);
    for (const auto& [kind, index] : order_) {
      if (kind == 0) {
        const auto& counters = *counters_[index];
        out.begin_family(counters.name(), counters.help(), "counter");
        counters.for_each([&](const label_values& values, const counter& metric) {
          out.sample(counters.name(), zip(counters.label_names(), values),
                     static_cast<double>(metric.value()));
        });
      } else if (kind == 1) {
        const auto& gauges = *gauges_[index];
        out.begin_family(gauges.name(), gauges.help(), "gauge");
        gauges.for_each([&](const label_values& values, const gauge& metric) {
          out.sample(gauges.name(), zip(gauges.label_names(), values), metric.value());
        });
      } else {
        const auto& histograms = *histograms_[index];
        out.begin_family(histograms.name(), histograms.help(), "histogram");
        histograms.for_each([&](const label_values& values, const histogram& metric) {
          const auto snapshot = metric.read();
          auto labels = zip(histograms.label_names(), values);
          const std::string bucket_name = histograms.name() + "_bucket";
          for (std::size_t i = 0; i <= snapshot.bounds.size(); ++i) {
            auto with_le = labels;
            std::string le;
            append_number(le, i < snapshot.bounds.size() ? snapshot.bounds[i] : INFINITY);
            with_le.emplace_back("le", std::move(le));
            out.sample(bucket_name, with_le, static_cast<double>(snapshot.cumulative[i]));
          }
          out.sample(histograms.name() + "_sum", labels, snapshot.sum);
          out.sample(histograms.name() + "_count", labels, static_cast<double>(snapshot.count));
        });
      }
    }
    collectors = collectors_;
  }
  for (const auto& collect : collectors) {
    collect(out);
  }
  return out.text();
}

std::vector<double> latency_bounds() {
  return {0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600};
}

}  // namespace jobgate::metrics
