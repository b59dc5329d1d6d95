#pragma once

#include <boost/system/result.hpp>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace jobgate {

// Writes one blob. Nothing is visible under the key until commit() succeeds; a writer destroyed
// without commit() removes what it wrote.
class blob_writer {
 public:
  virtual ~blob_writer() = default;
  virtual boost::system::result<void> write(std::string_view bytes) = 0;
  // Marks the partial file as in use, for a writer at work that has nothing to write yet, so the
  // removal of stale partial files leaves it alone. A write marks it too.
  virtual boost::system::result<void> touch() = 0;
  virtual boost::system::result<void> commit() = 0;
  virtual std::uint64_t bytes_written() const = 0;
};

// Reads one blob sequentially, from the start or from a byte offset.
class blob_reader {
 public:
  virtual ~blob_reader() = default;
  // Reads up to size bytes into buffer and returns how many were read; 0 at the end.
  virtual boost::system::result<std::size_t> read(char* buffer, std::size_t size) = 0;
  virtual boost::system::result<void> seek(std::uint64_t offset) = 0;
  virtual std::uint64_t size() const = 0;
};

// Uploaded files and export results, shared by the gateway and the workers. Keys are relative paths
// such as "dev/imports/imp_....csv"; they never contain "..".
class blob_store {
 public:
  virtual ~blob_store() = default;
  virtual boost::system::result<std::unique_ptr<blob_writer>> create(std::string_view key) = 0;
  virtual boost::system::result<std::unique_ptr<blob_reader>> open(std::string_view key) = 0;
  virtual boost::system::result<void> remove(std::string_view key) = 0;
  // The file behind a key when the store is a local filesystem, so HTTP can send it with sendfile.
  virtual std::optional<std::filesystem::path> local_path(std::string_view key) const = 0;
  // Removes the partial files of writes that a killed process left behind, recognised by a
  // modification time older than `idle`, and returns how many it removed. A store without partial
  // files has nothing to remove.
  virtual boost::system::result<std::uint64_t> remove_stale_partials(std::chrono::seconds idle) {
    (void)idle;
    return std::uint64_t{0};
  }
};

// A blob store in a directory: a ReadWriteMany volume on Kubernetes, a local folder in development.
// Writes go to a temporary file in the same directory and are renamed into place on commit.
class filesystem_blob_store final : public blob_store {
 public:
  // Creates the root directory if needed; throws std::filesystem::filesystem_error at start-up.
  explicit filesystem_blob_store(std::filesystem::path root);

  boost::system::result<std::unique_ptr<blob_writer>> create(std::string_view key) override;
  boost::system::result<std::unique_ptr<blob_reader>> open(std::string_view key) override;
  boost::system::result<void> remove(std::string_view key) override;
  std::optional<std::filesystem::path> local_path(std::string_view key) const override;
  // Walks the whole directory tree, so call it rarely.
  boost::system::result<std::uint64_t> remove_stale_partials(std::chrono::seconds idle) override;

 private:
  std::filesystem::path root_;
};

}  // namespace jobgate
