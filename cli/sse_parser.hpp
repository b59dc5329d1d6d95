#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace jobgate::cli {

// One dispatched Server-Sent Event.
struct sse_event {
  std::string type = "message";  // the `event` field, "message" when absent
  std::string data;              // the `data` lines joined by '\n'
  std::string id;
};

// Parses a text/event-stream incrementally, following the event stream interpretation of the HTML
// Living Standard. Lines end in CRLF, LF or CR, and a blank line dispatches the event unless it
// has no data. Lines starting with ':' are comments, and one space after a field's colon is
// dropped. Input may be split anywhere, even inside a CRLF.
class sse_parser {
 public:
  // Feeds the next bytes of the stream and returns the events that they completed.
  std::vector<sse_event> feed(std::string_view bytes);

 private:
  void process_line(std::string_view line, std::vector<sse_event>& events);

  std::string line_;
  bool after_cr_ = false;  // the previous byte was CR, so a following LF ends no second line
  sse_event pending_;
  bool has_data_ = false;
};

}  // namespace jobgate::cli
