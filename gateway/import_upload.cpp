#include "gateway/import_upload.hpp"

#include "gateway/quota_checks.hpp"

namespace jobgate::gateway {

namespace {

constexpr std::string_view request_part = "importRequest";
constexpr std::string_view file_part = "files";

}  // namespace

import_upload::import_upload(blob_store& blobs, std::string blob_key, std::size_t max_json_bytes)
    : blobs_(blobs), blob_key_(std::move(blob_key)), max_json_bytes_(max_json_bytes) {}

import_upload import_upload::preview(blob_store& blobs, std::size_t max_json_bytes,
                                     std::size_t preview_bytes) {
  import_upload upload(blobs, {}, max_json_bytes);
  upload.preview_bytes_ = preview_bytes;
  return upload;
}

std::error_code import_upload::stop(problem reason) {
  failure_ = std::move(reason);
  return std::make_error_code(std::errc::operation_canceled);
}

std::error_code import_upload::on_part_begin(const multipart_part_headers& headers) {
  if (headers.name == request_part) {
    if (request_complete_ || current_ == part::request) {
      return stop({problem_kind::invalid_multipart,
                   "The body has more than one importRequest part.",
                   {{"part", std::string(request_part)}}});
    }
    current_ = part::request;
    return {};
  }
  if (headers.name == file_part) {
    if (file_complete_ || file_started_) {
      return stop({problem_kind::invalid_multipart,
                   "An import takes exactly one file; the body has more than one files part.",
                   {{"part", std::string(file_part)}}});
    }
    file_started_ = true;
    if (preview_bytes_ == 0) {
      auto created = blobs_.create(blob_key_);
      if (!created) {
        return stop({problem_kind::internal_error, "The upload could not be stored."});
      }
      writer_ = std::move(*created);
    }
    filename_ = headers.filename.value_or("");
    current_ = part::file;
    start_counting();
    return {};
  }
  return stop({problem_kind::invalid_multipart,
               "Unexpected part '" + headers.name +
                   "': an import has the parts importRequest (JSON) and files (CSV).",
               {{"part", headers.name}}});
}

std::error_code import_upload::on_part_data(std::string_view data) {
  // Bytes of another part, or of the file's start held for the preview, do not reach the file.
  // Touching it keeps the sweepers from taking it for the partial file of a dead process.
  const bool reaches_file = current_ == part::file && preview_bytes_ == 0;
  if (writer_ && !reaches_file) {
    if (auto touched = writer_->touch(); !touched) {
      return stop({problem_kind::internal_error, "The upload could not be stored."});
    }
  }
  if (current_ == part::request) {
    if (request_json_.size() + data.size() > max_json_bytes_) {
      return stop(
          {problem_kind::payload_too_large,
           "The importRequest part is larger than " + std::to_string(max_json_bytes_) + " bytes."});
    }
    request_json_.append(data);
    return {};
  }
  if (current_ == part::file && preview_bytes_ > 0) {
    const std::size_t room = preview_bytes_ - file_start_.size();
    file_start_.append(data.substr(0, room));
    file_start_cut_ = file_start_cut_ || data.size() > room;
  } else if (current_ == part::file) {
    if (auto written = writer_->write(data); !written) {
      return stop({problem_kind::internal_error, "The upload could not be stored."});
    }
    file_hash_.update(data);
    if (counter_) {
      counter_->feed(data);
      // Only a count with the request's own options may stop the upload. A count with the
      // default options is checked once the request is known.
      if (max_rows_ > 0 && counting_with_request_ && counter_->data_records() > max_rows_) {
        return stop(too_many_rows(max_rows_, counter_->data_records(), row_count::partial));
      }
    }
  }
  return {};
}

std::error_code import_upload::on_part_end() {
  if (current_ == part::request) {
    request_complete_ = true;
  } else if (current_ == part::file) {
    if (counter_) {
      counter_->finish();
      const std::uint64_t rows = counter_->data_records();
      if (max_rows_ > 0 && counting_with_request_ && rows > max_rows_) {
        return stop(too_many_rows(max_rows_, rows, row_count::whole_file));
      }
    }
    file_complete_ = true;
    file_digest_ = file_hash_.hex_digest();
  }
  current_ = part::none;
  return {};
}

void import_upload::start_counting() {
  // A preview keeps only the file's start.
  if (preview_bytes_ > 0) {
    return;
  }
  if (request_complete_) {
    if (auto request = records::import_request::parse(request_json_)) {
      count_options_ = request->options;
      counting_with_request_ = true;
    }
  }
  // parse() rejects the delimiters that the CSV reader throws on, so this does not throw.
  counter_.emplace(count_options_);
}

std::optional<std::uint64_t> import_upload::counted_records(
    const records::import_options& options) const {
  // Only the delimiter and the encoding change where records end.
  if (!counter_ || !file_complete_ || options.delimiter != count_options_.delimiter ||
      options.encoding != count_options_.encoding) {
    return std::nullopt;
  }
  return counter_->data_records();
}

boost::system::result<void> import_upload::commit() {
  if (!writer_) {
    return boost::system::error_code(EINVAL, boost::system::system_category());
  }
  return writer_->commit();
}

}  // namespace jobgate::gateway
