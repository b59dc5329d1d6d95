#include "gateway/multipart_error.hpp"

#include <string>

namespace jobgate::gateway {
namespace {

class multipart_category_impl final : public std::error_category {
 public:
  const char* name() const noexcept override { return "multipart"; }

  std::string message(int value) const override {
    switch (static_cast<multipart_error>(value)) {
      case multipart_error::invalid_boundary:
        return "invalid multipart boundary: it must be 1 to 70 characters allowed by RFC 2046 "
               "and must not end with a space";
      case multipart_error::malformed_header:
        return "malformed multipart part header: each line must be 'name: value' with a token "
               "name, no control characters, and a CRLF line end";
      case multipart_error::header_too_large:
        return "multipart part header block is larger than the configured maximum";
      case multipart_error::duplicate_header:
        return "multipart part repeats the Content-Disposition, Content-Type or "
               "Content-Transfer-Encoding header";
      case multipart_error::invalid_content_disposition:
        return "missing or invalid Content-Disposition in a multipart part: it must be "
               "'form-data' with one name parameter and well-formed parameters";
      case multipart_error::unsupported_transfer_encoding:
        return "unsupported Content-Transfer-Encoding in a multipart part: only 7bit, 8bit and "
               "binary are accepted (RFC 7578 deprecates the others); send the raw bytes";
      case multipart_error::too_many_parts:
        return "multipart body has more parts than the configured maximum";
      case multipart_error::malformed_delimiter:
        return "malformed multipart delimiter line: only spaces or tabs may follow the boundary "
               "before CRLF";
      case multipart_error::missing_closing_boundary:
        return "multipart body ended before the closing boundary delimiter (--boundary--); "
               "the upload may be truncated, or its lines do not end with CRLF";
    }
    return "unknown multipart error " + std::to_string(value);
  }
};

}  // namespace

const std::error_category& multipart_category() noexcept {
  static const multipart_category_impl category;
  return category;
}

std::error_code make_error_code(multipart_error error) noexcept {
  return {static_cast<int>(error), multipart_category()};
}

}  // namespace jobgate::gateway
