#include "common/blob/blob_store.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>

namespace jobgate {

namespace {

boost::system::error_code last_error() {
  return {errno, boost::system::system_category()};
}

bool is_safe_key(std::string_view key) {
  return !key.empty() && !key.starts_with('/') && key.find("..") == std::string_view::npos &&
         key.find('\0') == std::string_view::npos;
}

// Returns whether a file name is that of a partial file: the target's name, ".tmp.", the writer's
// pid, a dot and its sequence number.
bool is_partial_name(std::string_view name) {
  const auto marker = name.rfind(".tmp.");
  if (marker == std::string_view::npos || marker == 0) {
    return false;
  }
  const std::string_view suffix = name.substr(marker + 5);
  const auto dot = suffix.find('.');
  const auto all_digits = [](std::string_view text) {
    return !text.empty() && text.find_first_not_of("0123456789") == std::string_view::npos;
  };
  return dot != std::string_view::npos && all_digits(suffix.substr(0, dot)) &&
         all_digits(suffix.substr(dot + 1));
}

// Owns a POSIX file descriptor.
class file_descriptor {
 public:
  explicit file_descriptor(int fd = -1) : fd_(fd) {}
  file_descriptor(file_descriptor&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
  file_descriptor& operator=(file_descriptor&&) = delete;
  ~file_descriptor() {
    if (fd_ >= 0) {
      ::close(fd_);
    }
  }
  int get() const { return fd_; }
  int release() { return std::exchange(fd_, -1); }

 private:
  int fd_;
};

class file_blob_writer final : public blob_writer {
 public:
  file_blob_writer(file_descriptor fd, std::filesystem::path temporary,
                   std::filesystem::path target)
      : fd_(std::move(fd)), temporary_(std::move(temporary)), target_(std::move(target)) {}

  ~file_blob_writer() override {
    if (!committed_) {
      std::error_code ignored;
      std::filesystem::remove(temporary_, ignored);
    }
  }

  boost::system::result<void> write(std::string_view bytes) override {
    while (!bytes.empty()) {
      const ssize_t written = ::write(fd_.get(), bytes.data(), bytes.size());
      if (written < 0) {
        if (errno == EINTR) {
          continue;
        }
        return last_error();
      }
      bytes.remove_prefix(static_cast<std::size_t>(written));
      bytes_written_ += static_cast<std::uint64_t>(written);
    }
    return {};
  }

  boost::system::result<void> touch() override {
    if (::futimens(fd_.get(), nullptr) != 0) {
      return last_error();
    }
    return {};
  }

  boost::system::result<void> commit() override {
    if (::fsync(fd_.get()) != 0) {
      return last_error();
    }
    if (::close(fd_.release()) != 0) {
      return last_error();
    }
    if (::rename(temporary_.c_str(), target_.c_str()) != 0) {
      return last_error();
    }
    committed_ = true;
    return {};
  }

  std::uint64_t bytes_written() const override { return bytes_written_; }

 private:
  file_descriptor fd_;
  std::filesystem::path temporary_;
  std::filesystem::path target_;
  std::uint64_t bytes_written_ = 0;
  bool committed_ = false;
};

class file_blob_reader final : public blob_reader {
 public:
  file_blob_reader(file_descriptor fd, std::uint64_t size) : fd_(std::move(fd)), size_(size) {}

  boost::system::result<std::size_t> read(char* buffer, std::size_t size) override {
    for (;;) {
      const ssize_t count = ::read(fd_.get(), buffer, size);
      if (count >= 0) {
        return static_cast<std::size_t>(count);
      }
      if (errno != EINTR) {
        return last_error();
      }
    }
  }

  boost::system::result<void> seek(std::uint64_t offset) override {
    if (::lseek(fd_.get(), static_cast<off_t>(offset), SEEK_SET) < 0) {
      return last_error();
    }
    return {};
  }

  std::uint64_t size() const override { return size_; }

 private:
  file_descriptor fd_;
  std::uint64_t size_;
};

}  // namespace

filesystem_blob_store::filesystem_blob_store(std::filesystem::path root) : root_(std::move(root)) {
  std::filesystem::create_directories(root_);
}

boost::system::result<std::unique_ptr<blob_writer>> filesystem_blob_store::create(
    std::string_view key) {
  if (!is_safe_key(key)) {
    return boost::system::error_code(EINVAL, boost::system::system_category());
  }
  const std::filesystem::path target = root_ / key;
  std::error_code created;
  std::filesystem::create_directories(target.parent_path(), created);
  if (created) {
    return boost::system::error_code(created.value(), boost::system::system_category());
  }

  // A per-process counter keeps temporary names unique between threads of one process, and the pid
  // between the gateway replicas and workers that share the directory.
  static std::atomic<std::uint64_t> sequence{0};
  std::filesystem::path temporary = target;
  temporary += ".tmp." + std::to_string(::getpid()) + "." + std::to_string(++sequence);
  file_descriptor fd(::open(temporary.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0640));
  if (fd.get() < 0) {
    return last_error();
  }
  return std::make_unique<file_blob_writer>(std::move(fd), std::move(temporary), target);
}

boost::system::result<std::unique_ptr<blob_reader>> filesystem_blob_store::open(
    std::string_view key) {
  if (!is_safe_key(key)) {
    return boost::system::error_code(EINVAL, boost::system::system_category());
  }
  const std::filesystem::path path = root_ / key;
  file_descriptor fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (fd.get() < 0) {
    return last_error();
  }
  struct stat info {};
  if (::fstat(fd.get(), &info) != 0) {
    return last_error();
  }
  return std::make_unique<file_blob_reader>(std::move(fd),
                                            static_cast<std::uint64_t>(info.st_size));
}

boost::system::result<void> filesystem_blob_store::remove(std::string_view key) {
  if (!is_safe_key(key)) {
    return boost::system::error_code(EINVAL, boost::system::system_category());
  }
  std::error_code removed;
  std::filesystem::remove(root_ / key, removed);
  if (removed) {
    return boost::system::error_code(removed.value(), boost::system::system_category());
  }
  return {};
}

boost::system::result<std::uint64_t> filesystem_blob_store::remove_stale_partials(
    std::chrono::seconds idle) {
  namespace fs = std::filesystem;
  const auto cutoff = fs::file_time_type::clock::now() - idle;
  std::uint64_t removed = 0;
  std::error_code error;
  fs::recursive_directory_iterator entries(root_, fs::directory_options::skip_permission_denied,
                                           error);
  for (; !error && entries != fs::recursive_directory_iterator(); entries.increment(error)) {
    const fs::directory_entry& entry = *entries;
    std::error_code ignored;
    if (!entry.is_regular_file(ignored) || !is_partial_name(entry.path().filename().native())) {
      continue;
    }
    // A writer that is still at work has written since the cutoff. Another process may remove
    // the same file first, which is no error.
    const auto written = entry.last_write_time(ignored);
    if (!ignored && written < cutoff && fs::remove(entry.path(), ignored)) {
      ++removed;
    }
  }
  if (error) {
    return boost::system::error_code(error.value(), boost::system::system_category());
  }
  return removed;
}

std::optional<std::filesystem::path> filesystem_blob_store::local_path(std::string_view key) const {
  if (!is_safe_key(key)) {
    return std::nullopt;
  }
  return root_ / key;
}

}  // namespace jobgate
