#include "platform/append_file.h"

#include <gtest/gtest.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <filesystem>
#include <string>
#include <vector>

#include "private_tmpfs.h"
#include "temp_dir.h"
#include "util/error.h"

namespace ephport {
namespace {

using testing::read_file;
using testing::TempDir;
using testing::write_file;

// One scripted answer of the fake write(2): write `bytes` of the request for
// real (all of it when negative) and return that, or fail with `error`.
struct Step {
  ssize_t bytes = -1;
  int error = 0;
};

// A WriteFn that plays `steps` in order, then behaves like ::write.
WriteFn scripted_write(std::vector<Step> steps) {
  return [steps = std::move(steps), next = size_t{0}](int fd, const void* data,
                                                      size_t size) mutable -> ssize_t {
    if (next >= steps.size()) {
      return ::write(fd, data, size);
    }
    Step step = steps[next++];
    if (step.error != 0) {
      errno = step.error;
      return -1;
    }
    size_t count = step.bytes < 0 ? size : std::min(size, static_cast<size_t>(step.bytes));
    return ::write(fd, data, count);
  };
}

// The message of the RuntimeError that `action` throws.
template <typename Action>
std::string runtime_error(Action action) {
  try {
    action();
  } catch (const RuntimeError& error) {
    return error.what();
  }
  return "no RuntimeError";
}

class AppendFileTest : public ::testing::Test {
 protected:
  TempDir dir_;
  std::string path_ = dir_.file("ports.log");
  // Existing content, with bytes a careless rewrite would mangle.
  std::string old_ = std::string("time,address\r\n2026-11-25,10.0.0.1\n") + '\0' + "\xff tail";
};

TEST_F(AppendFileTest, AppendsAfterExistingContentByteForByte) {
  write_file(path_, old_);
  AppendFile log = AppendFile::open(path_);
  EXPECT_FALSE(log.empty());
  EXPECT_EQ(log.size(), old_.size());
  log.append("a,1\n");
  log.append("b,2\n");
  EXPECT_EQ(read_file(path_), old_ + "a,1\nb,2\n");
}

TEST_F(AppendFileTest, NewFileIsEmptyWithMode0644) {
  mode_t old_umask = ::umask(0);
  AppendFile log = AppendFile::open(path_);
  ::umask(old_umask);
  EXPECT_TRUE(log.empty());
  EXPECT_EQ(std::filesystem::status(path_).permissions(),
            std::filesystem::perms(0644) & std::filesystem::perms::mask);
  log.append("header\n");
  EXPECT_FALSE(log.empty());
  EXPECT_EQ(log.path(), path_);
}

TEST_F(AppendFileTest, EmptyAgainAfterExternalTruncation) {
  AppendFile log = AppendFile::open(path_);
  log.append("header\nrow\n");
  std::filesystem::resize_file(path_, 0);  // logrotate copytruncate
  EXPECT_TRUE(log.empty());
  log.append("header\n");
  EXPECT_EQ(read_file(path_), "header\n");
}

TEST_F(AppendFileTest, NoSpaceAfterAPartialWriteLeavesTheFileAsItWas) {
  write_file(path_, old_);
  AppendFile log = AppendFile::open(path_, scripted_write({{7, 0}, {-1, ENOSPC}}));
  std::string record(100, 'x');
  EXPECT_EQ(runtime_error([&] { log.append(record); }),
            "cannot append to " + path_ +
                ": No space left on device (record of 100 bytes dropped; log left intact)");
  EXPECT_EQ(read_file(path_), old_);
  // The script is spent: the next record goes in whole.
  log.append("next\n");
  EXPECT_EQ(read_file(path_), old_ + "next\n");
}

TEST_F(AppendFileTest, ShortWritesThenFailureLeaveTheFileAsItWas) {
  for (int error : {EIO, EFBIG, ENOSPC}) {
    write_file(path_, old_);
    AppendFile log = AppendFile::open(path_, scripted_write({{1, 0}, {3, 0}, {-1, error}}));
    std::string message = runtime_error([&] { log.append("0123456789\n"); });
    EXPECT_EQ(message, "cannot append to " + path_ + ": " + std::strerror(error) +
                           " (record of 11 bytes dropped; log left intact)");
    EXPECT_EQ(read_file(path_), old_);
  }
}

TEST_F(AppendFileTest, FailureBeforeAnyByteLeavesTheFileAsItWas) {
  write_file(path_, old_);
  AppendFile log = AppendFile::open(path_, scripted_write({{-1, ENOSPC}}));
  EXPECT_NE(runtime_error([&] { log.append("row\n"); }), "no RuntimeError");
  EXPECT_EQ(read_file(path_), old_);
}

TEST_F(AppendFileTest, ShortWritesThatFinishAreFine) {
  AppendFile log = AppendFile::open(path_, scripted_write({{2, 0}, {-1, EINTR}, {1, 0}}));
  log.append("abcdef\n");
  EXPECT_EQ(read_file(path_), "abcdef\n");
}

TEST_F(AppendFileTest, NeverExtendsAFileThatShrankDuringTheWrite) {
  write_file(path_, old_);
  AppendFile log = AppendFile::open(path_);
  // Rotated away (truncated) by someone else, then the write fails.
  log = AppendFile::open(path_, [this](int, const void*, size_t) -> ssize_t {
    std::filesystem::resize_file(path_, 0);
    errno = ENOSPC;
    return -1;
  });
  EXPECT_NE(runtime_error([&] { log.append("row\n"); }), "no RuntimeError");
  EXPECT_EQ(std::filesystem::file_size(path_), 0U);
}

TEST_F(AppendFileTest, OpenErrorsNameThePathAndTheReason) {
  std::string missing = dir_.file("missing/ports.log");
  EXPECT_EQ(runtime_error([&] { AppendFile::open(missing); }),
            "cannot open log file " + missing + " for appending: No such file or directory");
  write_file(dir_.file("plain"), "");
  std::string under_file = dir_.file("plain/ports.log");
  EXPECT_EQ(runtime_error([&] { AppendFile::open(under_file); }),
            "cannot open log file " + under_file + " for appending: Not a directory");
  EXPECT_EQ(runtime_error([&] { AppendFile::open(dir_.path()); }),
            "cannot open log file " + dir_.path() + " for appending: Is a directory");
}

TEST_F(AppendFileTest, OpenOnAReadOnlyFileSystem) {
  testing::run_on_private_tmpfs("size=16k", MS_RDONLY, [](const std::string& mount) {
    std::string path = mount + "/ports.log";
    std::string message = runtime_error([&] { AppendFile::open(path); });
    std::string expected = "cannot open log file " + path + " for appending: Read-only file system";
    return message == expected ? "" : "got: " + message;
  });
}

// A file that refuses every write is reported at open, before any sample
// is taken: /dev/full answers even an empty write with ENOSPC.
TEST_F(AppendFileTest, DevFullIsRefusedAtOpen) {
  EXPECT_EQ(runtime_error([&] { AppendFile::open("/dev/full"); }),
            "cannot open log file /dev/full for appending: No space left on device");
}

TEST_F(AppendFileTest, RealFullDiskKeepsOnlyWholeRecords) {
  testing::run_on_private_tmpfs("size=16k", 0, [](const std::string& mount) -> std::string {
    std::string path = mount + "/ports.log";
    AppendFile log = AppendFile::open(path);
    // 1000-byte records do not divide the 4 KiB pages: the last one is cut
    // part way by the kernel, and must be removed again.
    std::string record(999, 'r');
    record += '\n';
    std::string expected;
    std::string message;
    for (int i = 0; i < 100 && message.empty(); ++i) {
      message = runtime_error([&] { log.append(record); });
      if (message == "no RuntimeError") {
        message.clear();
        expected += record;
      }
    }
    if (message != "cannot append to " + path +
                       ": No space left on device (record of 1000 bytes dropped; log left "
                       "intact)") {
      return "unexpected error: " + message;
    }
    if (expected.empty() || read_file(path) != expected) {
      return "the log holds " + std::to_string(read_file(path).size()) + " bytes, expected " +
             std::to_string(expected.size());
    }
    // A smaller record that still fits goes in after the failure.
    log.append("tail\n");
    return read_file(path) == expected + "tail\n" ? "" : "the log is not usable after a failure";
  });
}

// --- Operations on the file while it is open (issue #12) ------------------

// A record renderer that writes "H\n" first when asked for a header.
AppendFile::Render record_of(const std::string& line) {
  return [line](bool header) { return (header ? std::string("H\n") : std::string()) + line; };
}

class AppendFileOperationsTest : public AppendFileTest {
 protected:
  AppendFile open_watched(Rotation rotation = {}) {
    AppendFile log = AppendFile::open(path_, {}, rotation);
    log.on_notice([this](const std::string& text) { notices_.push_back(text); });
    return log;
  }
  std::vector<std::string> notices_;
};

TEST_F(AppendFileOperationsTest, RenamedFileIsReopenedByNameWithAHeaderAndSaidOnce) {
  AppendFile log = open_watched();
  log.append_record(record_of("a\n"));
  ASSERT_EQ(::rename(path_.c_str(), (path_ + ".1").c_str()), 0);
  log.append_record(record_of("b\n"));
  log.append_record(record_of("c\n"));
  EXPECT_EQ(read_file(path_ + ".1"), "H\na\n");
  EXPECT_EQ(read_file(path_), "H\nb\nc\n");
  ASSERT_EQ(notices_.size(), 1u);
  EXPECT_NE(notices_[0].find("renamed"), std::string::npos) << notices_[0];
}

TEST_F(AppendFileOperationsTest, DeletedFileIsRecreatedAndSaidOnce) {
  AppendFile log = open_watched();
  log.append_record(record_of("a\n"));
  ASSERT_EQ(::unlink(path_.c_str()), 0);
  log.append_record(record_of("b\n"));
  log.append_record(record_of("c\n"));
  EXPECT_EQ(read_file(path_), "H\nb\nc\n");
  ASSERT_EQ(notices_.size(), 1u);
  EXPECT_NE(notices_[0].find("deleted"), std::string::npos) << notices_[0];
}

TEST_F(AppendFileOperationsTest, ReplacedFileIsFollowed) {
  AppendFile log = open_watched();
  log.append_record(record_of("a\n"));
  const std::string other = dir_.file("other");
  write_file(other, "X\n");
  ASSERT_EQ(::rename(other.c_str(), path_.c_str()), 0);
  log.append_record(record_of("b\n"));
  EXPECT_EQ(read_file(path_), "X\nb\n");
  EXPECT_EQ(notices_.size(), 1u);
}

TEST_F(AppendFileOperationsTest, ForcedReopenAfterCreateModeRotation) {
  AppendFile log = open_watched();
  log.append_record(record_of("a\n"));
  ASSERT_EQ(::rename(path_.c_str(), (path_ + ".1").c_str()), 0);
  write_file(path_, "");  // logrotate's create
  log.reopen("SIGHUP");
  log.append_record(record_of("b\n"));
  EXPECT_EQ(read_file(path_), "H\nb\n");
  EXPECT_EQ(notices_, std::vector<std::string>{"SIGHUP"});
}

TEST_F(AppendFileOperationsTest, RotatesByRenameKeepingWholeRecordsAndDroppingTheOldest) {
  AppendFile log = open_watched({/*max_size=*/8, /*max_files=*/2});
  for (const char* line : {"1111\n", "2222\n", "3333\n", "4444\n"}) {
    log.append_record(record_of(line));
  }
  // Each file takes "H\n" plus one record (7 bytes); two more would be 12.
  EXPECT_EQ(read_file(path_), "H\n4444\n");
  EXPECT_EQ(read_file(path_ + ".1"), "H\n3333\n");
  EXPECT_EQ(read_file(path_ + ".2"), "H\n2222\n");
  EXPECT_FALSE(std::filesystem::exists(path_ + ".3"));
}

TEST_F(AppendFileOperationsTest, RecordLargerThanMaxSizeGoesWholeIntoAFreshFile) {
  AppendFile log = open_watched({/*max_size=*/4, /*max_files=*/3});
  log.append_record(record_of("a\n"));
  const std::string big(100, 'x');
  log.append_record(record_of(big + "\n"));
  log.append_record(record_of("b\n"));
  EXPECT_EQ(read_file(path_ + ".2"), "H\na\n");
  EXPECT_EQ(read_file(path_ + ".1"), "H\n" + big + "\n");
  EXPECT_EQ(read_file(path_), "H\nb\n");
}

TEST_F(AppendFileOperationsTest, WithoutMaxSizeNeverRotates) {
  AppendFile log = open_watched();
  for (int i = 0; i < 100; ++i) {
    log.append_record(record_of("record\n"));
  }
  EXPECT_FALSE(std::filesystem::exists(path_ + ".1"));
  EXPECT_TRUE(notices_.empty());
}

}  // namespace
}  // namespace ephport
