#pragma once

#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>

#include "common/jobs/job.hpp"

namespace jobgate::gateway {

// A job record as one read loaded it. The status reads that the job read cache serves from one
// entry share its snapshot, so the response body is rendered once for the entry, not per read.
// Safe to share between threads.
class job_snapshot {
 public:
  explicit job_snapshot(job_record job) : job_(std::move(job)) {}

  const job_record& job() const noexcept { return job_; }

  // Returns the body that `render` makes for base_url. The snapshot keeps the body of the last
  // base URL it rendered for, because the links in a body start with it. `render` runs without
  // the lock, so two first calls may both render.
  template <class Render>
  std::shared_ptr<const std::string> body(std::string_view base_url, Render&& render) const {
    {
      const std::lock_guard lock(mutex_);
      if (rendered_ && rendered_->base_url == base_url) {
        return {rendered_, &rendered_->body};
      }
    }
    auto fresh = std::make_shared<const rendered>(std::string(base_url), render());
    const std::lock_guard lock(mutex_);
    rendered_ = fresh;
    return {fresh, &fresh->body};
  }

 private:
  struct rendered {
    std::string base_url;
    std::string body;
  };

  job_record job_;
  mutable std::mutex mutex_;
  mutable std::shared_ptr<const rendered> rendered_;
};

}  // namespace jobgate::gateway
