#pragma once

#include <memory>
#include <optional>
#include <string>

#include "common/blob/blob_store.hpp"
#include "common/crypto/sha256.hpp"
#include "common/records/import_record_counter.hpp"
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

  // A preview upload stores nothing: it keeps the first preview_bytes of the file in memory and
  // reads past the rest.
  static import_upload preview(blob_store& blobs, std::size_t max_json_bytes,
                               std::size_t preview_bytes);

  // Stops the upload with too-many-rows once the file has more than max_rows data rows, counted
  // with the options of an importRequest part that came before the file. 0 sets no limit.
  void limit_rows(std::uint64_t max_rows) { max_rows_ = max_rows; }

  std::error_code on_part_begin(const multipart_part_headers& headers) override;
  std::error_code on_part_data(std::string_view data) override;
  std::error_code on_part_end() override;

  const std::optional<problem>& failure() const { return failure_; }
  bool has_request() const { return request_complete_; }
  bool has_file() const { return file_complete_; }
  const std::string& request_json() const { return request_json_; }
  const std::string& filename() const { return filename_; }
  std::uint64_t file_bytes() const { return writer_ ? writer_->bytes_written() : 0; }

  // The kept start of the file of a preview upload, and whether it is the whole file.
  const std::string& file_start() const { return file_start_; }
  bool whole_file_kept() const { return file_complete_ && !file_start_cut_; }

  // SHA-256 of the file part in hex, once the part ended.
  const std::string& file_digest() const { return file_digest_; }

  // Returns the file's data records as counted while the file streamed in: with the options of
  // an importRequest part that came before it, or else with the default options. Returns nullopt
  // for a preview, and when the delimiter or encoding used differs from those in `options`.
  std::optional<std::uint64_t> counted_records(const records::import_options& options) const;

  // Makes the uploaded file visible under its key.
  boost::system::result<void> commit();

 private:
  enum class part { none, request, file };

  std::error_code stop(problem reason);
  // Starts counting the file's records, with the options of an importRequest part that came
  // first and parses, or else with the default options.
  void start_counting();

  blob_store& blobs_;
  std::string blob_key_;
  std::size_t max_json_bytes_;
  part current_ = part::none;
  std::string request_json_;
  std::string filename_;
  std::unique_ptr<blob_writer> writer_;
  std::size_t preview_bytes_ = 0;  // 0 for an upload that stores the file
  bool file_started_ = false;
  std::string file_start_;
  bool file_start_cut_ = false;
  crypto::sha256 file_hash_;
  records::import_options count_options_;
  bool counting_with_request_ = false;  // count_options_ came from the importRequest part
  std::optional<records::import_record_counter> counter_;
  std::uint64_t max_rows_ = 0;
  std::string file_digest_;
  bool request_complete_ = false;
  bool file_complete_ = false;
  std::optional<problem> failure_;
};

}  // namespace jobgate::gateway
