// platform/atomic_file.h: a file appears whole under its name or not at all.

#include "platform/atomic_file.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <string>

#include "private_tmpfs.h"
#include "temp_dir.h"

namespace ephport {
namespace {

namespace fs = std::filesystem;
using testing::read_file;
using testing::TempDir;
using testing::write_file;

TEST(AtomicFile, WritesTheWholeFileOnCommit) {
  TempDir dir;
  std::string path = dir.file("out.txt");
  Result<AtomicFile> file = AtomicFile::create(path);
  ASSERT_TRUE(file.ok()) << file.error().message;
  ASSERT_TRUE(file.value().write("hello ").ok());
  ASSERT_TRUE(file.value().write("world\n").ok());
  EXPECT_FALSE(fs::exists(path)) << "visible before commit";
  EXPECT_TRUE(fs::exists(path + ".tmp"));
  ASSERT_TRUE(file.value().commit().ok());
  EXPECT_TRUE(file.value().committed());
  EXPECT_EQ(read_file(path), "hello world\n");
  EXPECT_FALSE(fs::exists(path + ".tmp"));
}

TEST(AtomicFile, ReplacesAnExistingFile) {
  TempDir dir;
  std::string path = dir.file("out.txt");
  write_file(path, "old\n");
  ASSERT_TRUE(write_file_atomically(path, "new\n").ok());
  EXPECT_EQ(read_file(path), "new\n");
}

TEST(AtomicFile, UsesTheMode) {
  TempDir dir;
  std::string path = dir.file("out.txt");
  ::umask(022);
  ASSERT_TRUE(write_file_atomically(path, "x", 0640).ok());
  struct stat status {};
  ASSERT_EQ(::stat(path.c_str(), &status), 0);
  EXPECT_EQ(status.st_mode & 0777, 0640u);
}

TEST(AtomicFile, UncommittedLeavesNothingAndKeepsTheOldFile) {
  TempDir dir;
  std::string path = dir.file("out.txt");
  write_file(path, "old\n");
  {
    Result<AtomicFile> file = AtomicFile::create(path);
    ASSERT_TRUE(file.ok());
    ASSERT_TRUE(file.value().write("partial").ok());
  }
  EXPECT_EQ(read_file(path), "old\n");
  EXPECT_FALSE(fs::exists(path + ".tmp"));
}

TEST(AtomicFile, AFailedWriteLeavesNoPartialFileUnderTheFinalName) {
  TempDir dir;
  std::string path = dir.file("out.txt");
  {
    int calls = 0;
    // The first write lands half the data, the second fails as a full disk.
    WriteFn half_then_full = [&calls](int fd, const void* data, size_t size) -> ssize_t {
      if (calls++ == 0) {
        return ::write(fd, data, size / 2);
      }
      errno = ENOSPC;
      return -1;
    };
    Result<AtomicFile> file = AtomicFile::create(path, 0644, half_then_full);
    ASSERT_TRUE(file.ok());
    Result<void> written = file.value().write("0123456789");
    ASSERT_FALSE(written.ok());
    EXPECT_EQ(written.error().error_number, ENOSPC);
    EXPECT_EQ(written.error().message, std::strerror(ENOSPC));
    EXPECT_FALSE(fs::exists(path));
  }
  EXPECT_FALSE(fs::exists(path));
  EXPECT_FALSE(fs::exists(path + ".tmp"));
}

TEST(AtomicFile, AFullDiskLeavesNoPartialFileAndKeepsTheOldOne) {
  testing::run_on_private_tmpfs("size=16k", 0, [](const std::string& mount) -> std::string {
    std::string path = mount + "/out.txt";
    write_file(path, "old\n");
    Result<void> written = write_file_atomically(path, std::string(64 * 1024, 'x'));
    if (written.ok()) {
      return "64 KiB fit on a 16 KiB tmpfs";
    }
    if (written.error().error_number != ENOSPC) {
      return "error " + written.error().message;
    }
    if (read_file(path) != "old\n") {
      return "old file changed";
    }
    if (fs::exists(path + ".tmp")) {
      return "temporary file left";
    }
    return "";
  });
}

TEST(AtomicFile, ReportsAnUncreatableFile) {
  TempDir dir;
  Result<void> written = write_file_atomically(dir.file("missing/out.txt"), "x");
  ASSERT_FALSE(written.ok());
  EXPECT_EQ(written.error().error_number, ENOENT);
  EXPECT_EQ(written.error().message, "No such file or directory");
  EXPECT_FALSE(fs::exists(dir.file("missing")));
}

TEST(AtomicFile, SyncsFilesAndDirectories) {
  TempDir dir;
  write_file(dir.file("a"), "a");
  EXPECT_TRUE(sync_file(dir.file("a")).ok());
  EXPECT_TRUE(sync_directory(dir.path()).ok());
  Result<void> missing = sync_directory(dir.file("none"));
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().error_number, ENOENT);
}

}  // namespace
}  // namespace ephport
