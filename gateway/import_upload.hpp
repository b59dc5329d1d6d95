#pragma once

#include <memory>
#include <optional>
#include <string>

#include "common/blob/blob_store.hpp"
#include "gateway/multipart_parser.hpp"
#include "gateway/problem.hpp"

namespace jobgate::gateway {

// Receives the parts of an import submission: collects the small "importRequest" JSON part and
// streams the "files" part into the blob store as it arrives. On a problem it stops the parse and
// keeps the problem for the response. The partial blob is removed when the upload is destroyed
// uncommitted.
class import_upload final : public multipart_handler {
 public:
  import_upload(blob_store& blobs, std::string blob_key, std::size_t max_json_bytes);

  std::error_code on_part_begin(const multipart_part_headers& headers) override;
  std::error_code on_part_data(std::string_view data) override;
  std::error_code on_part_end() override;

  const std::optional<problem>& failure() const { return failure_; }
  bool has_request() const { return request_complete_; }
  bool has_file() const { return file_complete_; }
  const std::string& request_json() const { return request_json_; }
  const std::string& filename() const { return filename_; }
  std::uint64_t file_bytes() const { return writer_ ? writer_->bytes_written() : 0; }

  // Makes the uploaded file visible under its key.
  boost::system::result<void> commit();

 private:
  enum class part { none, request, file };

  std::error_code stop(problem reason);

  blob_store& blobs_;
  std::string blob_key_;
  std::size_t max_json_bytes_;
  part current_ = part::none;
  std::string request_json_;
  std::string filename_;
  std::unique_ptr<blob_writer> writer_;
  bool request_complete_ = false;
  bool file_complete_ = false;
  std::optional<problem> failure_;
};

}  // namespace jobgate::gateway
