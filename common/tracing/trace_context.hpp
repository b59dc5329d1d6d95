#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace jobgate::tracing {

// A position in a W3C Trace Context trace (https://www.w3.org/TR/trace-context/). It names the
// trace a request belongs to, the span that sent it, and the trace flags. jobgate carries it from
// the gateway's request through the Kafka job message and the job event to the worker's logs and
// webhook requests.
class trace_context {
 public:
  // Parses a traceparent header value. Version 00 must be exactly 55 characters; a later version
  // may append fields after a '-', which are ignored. Returns nullopt for version ff, uppercase
  // hex, an all-zero trace id or parent id, or any other malformed value.
  static std::optional<trace_context> parse(std::string_view header);

  // Starts a new trace with random ids and the sampled flag unset.
  static trace_context generate();

  // The same trace and flags with a new random parent id: the context of a span that this process
  // starts inside the trace.
  trace_context child() const;

  // The traceparent header value, always in version 00 form.
  std::string header() const;

  const std::string& trace_id() const { return trace_id_; }    // 32 lowercase hex digits
  const std::string& parent_id() const { return parent_id_; }  // 16 lowercase hex digits
  const std::string& flags() const { return flags_; }          // 2 lowercase hex digits

 private:
  trace_context(std::string trace_id, std::string parent_id, std::string flags)
      : trace_id_(std::move(trace_id)),
        parent_id_(std::move(parent_id)),
        flags_(std::move(flags)) {}

  std::string trace_id_;
  std::string parent_id_;
  std::string flags_;
};

// The trace context a process continues from an incoming traceparent value: a child of it when
// it parses, otherwise a new trace.
trace_context continue_or_start(std::string_view header);

}  // namespace jobgate::tracing
