#pragma once

#include <string>

namespace jobgate::worker {

// The end of one attempt at a job, as decided by its kind's handler.
struct job_outcome {
  enum class kind {
    done,        // finished; the store is updated and the job can be marked DONE
    failed,      // permanent failure: the input or request is wrong, retrying does not help
    canceled,    // the job was canceled while it ran; what was written stays
    superseded,  // another attempt owns the job now (fencing), so this one stops silently
    retry,       // a transient failure (Redis, blob store); the same message is tried again
  };

  kind result = kind::done;
  std::string error_type;    // problem type slug when failed
  std::string error_detail;  // sentence for people when failed or retried

  static job_outcome done() { return {}; }
  static job_outcome failed(std::string type, std::string detail) {
    return {kind::failed, std::move(type), std::move(detail)};
  }
  static job_outcome retry(std::string detail) { return {kind::retry, {}, std::move(detail)}; }
  static job_outcome canceled() { return {kind::canceled, {}, {}}; }
  static job_outcome superseded() { return {kind::superseded, {}, {}}; }
};

}  // namespace jobgate::worker
