#include <unistd.h>

#include <atomic>
#include <catch2/catch.hpp>
#include <cerrno>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "common/blob/blob_store.hpp"

namespace {

namespace fs = std::filesystem;
using jobgate::filesystem_blob_store;

// A directory of its own under the system temporary folder, removed with its content.
class temporary_directory {
 public:
  temporary_directory() {
    static std::atomic<int> counter{0};
    path_ = fs::temp_directory_path() /
            ("jobgate-blob-test-" + std::to_string(::getpid()) + "-" + std::to_string(counter++));
    fs::remove_all(path_);
  }
  ~temporary_directory() {
    std::error_code ignored;
    fs::remove_all(path_, ignored);
  }
  const fs::path& path() const { return path_; }

 private:
  fs::path path_;
};

// Every regular file below root, as paths relative to it.
std::vector<std::string> files_below(const fs::path& root) {
  std::vector<std::string> files;
  for (const auto& entry : fs::recursive_directory_iterator(root)) {
    if (entry.is_regular_file()) {
      files.push_back(fs::relative(entry.path(), root).string());
    }
  }
  return files;
}

std::string read_all(jobgate::blob_reader& reader, std::size_t piece = 4) {
  std::string content;
  std::vector<char> buffer(piece);
  for (;;) {
    auto read = reader.read(buffer.data(), buffer.size());
    REQUIRE(read.has_value());
    if (*read == 0) {
      return content;
    }
    content.append(buffer.data(), *read);
  }
}

void write_blob(filesystem_blob_store& store, std::string_view key, std::string_view content) {
  auto writer = store.create(key);
  REQUIRE(writer.has_value());
  REQUIRE((*writer)->write(content).has_value());
  REQUIRE((*writer)->commit().has_value());
}

}  // namespace

TEST_CASE("blob store creates root", "[blob]") {
  temporary_directory directory;
  filesystem_blob_store store(directory.path() / "nested" / "root");
  CHECK(fs::is_directory(directory.path() / "nested" / "root"));
}

TEST_CASE("blob visible only after commit", "[blob]") {
  temporary_directory directory;
  filesystem_blob_store store(directory.path());
  const std::string key = "tenant-a/imports/imp_1.csv";

  auto writer = store.create(key);
  REQUIRE(writer.has_value());
  REQUIRE((*writer)->write("email,name\r\n").has_value());
  REQUIRE((*writer)->write("a@example.com,Ann\r\n").has_value());
  CHECK((*writer)->bytes_written() == 31);

  auto before = store.open(key);
  REQUIRE_FALSE(before.has_value());
  CHECK(before.error() == boost::system::errc::no_such_file_or_directory);
  CHECK_FALSE(fs::exists(directory.path() / key));

  REQUIRE((*writer)->commit().has_value());
  auto after = store.open(key);
  REQUIRE(after.has_value());
  CHECK((*after)->size() == 31);
  CHECK(read_all(**after) == "email,name\r\na@example.com,Ann\r\n");
  writer->reset();
  CHECK(files_below(directory.path()) == std::vector<std::string>{key});
}

TEST_CASE("blob uncommitted writer leaves nothing", "[blob]") {
  temporary_directory directory;
  filesystem_blob_store store(directory.path());
  {
    auto writer = store.create("tenant-a/exports/exp_1.csv");
    REQUIRE(writer.has_value());
    REQUIRE((*writer)->write(std::string(100000, 'x')).has_value());
    CHECK_FALSE(files_below(directory.path()).empty());
  }
  CHECK(files_below(directory.path()).empty());
  CHECK_FALSE(store.open("tenant-a/exports/exp_1.csv").has_value());
}

TEST_CASE("blob uncommitted writer keeps old blob", "[blob]") {
  temporary_directory directory;
  filesystem_blob_store store(directory.path());
  write_blob(store, "k/result.csv", "old");
  {
    auto writer = store.create("k/result.csv");
    REQUIRE(writer.has_value());
    REQUIRE((*writer)->write("new and longer").has_value());
  }
  auto reader = store.open("k/result.csv");
  REQUIRE(reader.has_value());
  CHECK(read_all(**reader) == "old");
}

TEST_CASE("blob commit replaces old blob", "[blob]") {
  temporary_directory directory;
  filesystem_blob_store store(directory.path());
  write_blob(store, "k/result.csv", "old content");
  write_blob(store, "k/result.csv", "new");
  auto reader = store.open("k/result.csv");
  REQUIRE(reader.has_value());
  CHECK((*reader)->size() == 3);
  CHECK(read_all(**reader) == "new");
}

TEST_CASE("blob concurrent writers of one key", "[blob]") {
  temporary_directory directory;
  filesystem_blob_store store(directory.path());
  auto first = store.create("same.csv");
  auto second = store.create("same.csv");
  REQUIRE(first.has_value());
  REQUIRE(second.has_value());
  REQUIRE((*first)->write("first").has_value());
  REQUIRE((*second)->write("second").has_value());
  REQUIRE((*second)->commit().has_value());
  REQUIRE((*first)->commit().has_value());
  auto reader = store.open("same.csv");
  REQUIRE(reader.has_value());
  CHECK(read_all(**reader) == "first");
}

TEST_CASE("blob unsafe keys rejected", "[blob]") {
  temporary_directory directory;
  filesystem_blob_store store(directory.path() / "root");
  // A file beside the root that a traversal would reach.
  std::ofstream(directory.path() / "secret.txt") << "secret";

  const std::string key =
      GENERATE(as<std::string>{}, "", "/etc/passwd", "../secret.txt", "a/../../secret.txt", "a/..",
               "..", "a..b", std::string("a\0b", 3));
  INFO("key '" << key << "'");
  auto created = store.create(key);
  REQUIRE_FALSE(created.has_value());
  CHECK(created.error() == boost::system::errc::invalid_argument);
  auto opened = store.open(key);
  REQUIRE_FALSE(opened.has_value());
  CHECK(opened.error() == boost::system::errc::invalid_argument);
  auto removed = store.remove(key);
  REQUIRE_FALSE(removed.has_value());
  CHECK(removed.error() == boost::system::errc::invalid_argument);
  CHECK_FALSE(store.local_path(key).has_value());
  CHECK(fs::exists(directory.path() / "secret.txt"));
}

TEST_CASE("blob seek and read", "[blob]") {
  temporary_directory directory;
  filesystem_blob_store store(directory.path());
  write_blob(store, "digits.txt", "0123456789");
  auto reader = store.open("digits.txt");
  REQUIRE(reader.has_value());

  REQUIRE((*reader)->seek(7).has_value());
  CHECK(read_all(**reader, 2) == "789");
  REQUIRE((*reader)->seek(0).has_value());
  CHECK(read_all(**reader, 3) == "0123456789");
  REQUIRE((*reader)->seek(3).has_value());
  char buffer[4];
  auto read = (*reader)->read(buffer, sizeof buffer);
  REQUIRE(read.has_value());
  REQUIRE(*read == 4);
  CHECK(std::string_view(buffer, 4) == "3456");

  // Past the end is allowed and reads nothing, as with lseek.
  REQUIRE((*reader)->seek(100).has_value());
  auto at_end = (*reader)->read(buffer, sizeof buffer);
  REQUIRE(at_end.has_value());
  CHECK(*at_end == 0);
}

TEST_CASE("blob empty blob", "[blob]") {
  temporary_directory directory;
  filesystem_blob_store store(directory.path());
  write_blob(store, "empty.csv", "");
  auto reader = store.open("empty.csv");
  REQUIRE(reader.has_value());
  CHECK((*reader)->size() == 0);
  CHECK(read_all(**reader).empty());
}

TEST_CASE("blob remove", "[blob]") {
  temporary_directory directory;
  filesystem_blob_store store(directory.path());
  write_blob(store, "t/gone.csv", "x");
  REQUIRE(store.remove("t/gone.csv").has_value());
  CHECK_FALSE(store.open("t/gone.csv").has_value());
  // Removing a missing blob is not an error, so cleanup after a failure may run twice.
  CHECK(store.remove("t/gone.csv").has_value());
}

TEST_CASE("blob local path", "[blob]") {
  temporary_directory directory;
  filesystem_blob_store store(directory.path());
  write_blob(store, "t/exports/exp_1.ndjson", "{}\n");
  const auto path = store.local_path("t/exports/exp_1.ndjson");
  REQUIRE(path.has_value());
  CHECK(*path == directory.path() / "t/exports/exp_1.ndjson");
  CHECK(fs::file_size(*path) == 3);
}

TEST_CASE("blob open missing key", "[blob]") {
  temporary_directory directory;
  filesystem_blob_store store(directory.path());
  auto opened = store.open("t/none.csv");
  REQUIRE_FALSE(opened.has_value());
  CHECK(opened.error() == boost::system::errc::no_such_file_or_directory);
}

TEST_CASE("blob store removes only stale partial files", "[blob]") {
  temporary_directory directory;
  filesystem_blob_store store(directory.path());
  write_blob(store, "t/exports/exp_1.csv", "a\n");
  // A writer still at work, whose partial file must stay.
  auto open_writer = store.create("t/exports/exp_2.csv");
  REQUIRE(open_writer.has_value());
  REQUIRE((*open_writer)->write("b\n").has_value());
  const std::vector<std::string> names = {"t/exports/exp_3.csv.tmp.77.1",
                                          "t/exports/exp_3.csv.tmp.x.1", "t/.tmp.77.1",
                                          "t/imports/imp_1.csv.tmp.77.2.csv"};
  fs::create_directories(directory.path() / "t" / "imports");
  for (const auto& name : names) {
    std::ofstream(directory.path() / name) << "c\n";
  }
  const auto old = fs::file_time_type::clock::now() - std::chrono::hours(2);
  for (const auto& file : files_below(directory.path())) {
    fs::last_write_time(directory.path() / file, old);
  }
  // The writer at work wrote just now, so its file is not stale.
  const auto live = files_below(directory.path() / "t" / "exports");
  for (const auto& file : live) {
    if (file.starts_with("exp_2.csv.tmp.")) {
      fs::last_write_time(directory.path() / "t" / "exports" / file,
                          fs::file_time_type::clock::now());
    }
  }

  auto removed = store.remove_stale_partials(std::chrono::hours(1));
  REQUIRE(removed.has_value());
  CHECK(*removed == 1);
  CHECK_FALSE(fs::exists(directory.path() / "t/exports/exp_3.csv.tmp.77.1"));
  CHECK(fs::exists(directory.path() / "t/exports/exp_1.csv"));
  CHECK(fs::exists(directory.path() / "t/exports/exp_3.csv.tmp.x.1"));
  CHECK(fs::exists(directory.path() / "t/.tmp.77.1"));
  CHECK(fs::exists(directory.path() / "t/imports/imp_1.csv.tmp.77.2.csv"));
  REQUIRE((*open_writer)->commit().has_value());
  CHECK(fs::exists(directory.path() / "t/exports/exp_2.csv"));
}

TEST_CASE("blob writer touch keeps partial file", "[blob]") {
  temporary_directory directory;
  filesystem_blob_store store(directory.path());
  auto writer = store.create("t/exports/exp_9.csv");
  REQUIRE(writer.has_value());
  REQUIRE((*writer)->write("email\n").has_value());
  const auto partials = files_below(directory.path());
  REQUIRE(partials.size() == 1);
  const auto partial = directory.path() / partials.front();
  fs::last_write_time(partial, fs::file_time_type::clock::now() - std::chrono::hours(2));

  REQUIRE((*writer)->touch().has_value());
  const auto removed = store.remove_stale_partials(std::chrono::hours(1));
  REQUIRE(removed.has_value());
  CHECK(*removed == 0);
  CHECK(fs::exists(partial));
  REQUIRE((*writer)->commit().has_value());
  CHECK(fs::exists(directory.path() / "t/exports/exp_9.csv"));
}
