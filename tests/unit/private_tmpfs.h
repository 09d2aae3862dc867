#pragma once
// Runs a check against a real, tiny tmpfs (to fill a disk for real, or to
// have a read-only file system) without touching the host: a forked child
// enters a private mount namespace and mounts the tmpfs there, so the mount
// vanishes with the child. Needs CAP_SYS_ADMIN; the test skips without it.

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <functional>
#include <string>

namespace ephport::testing {

// `check` runs in the child with the mount point; it returns "" on success or
// what went wrong. `options` is the tmpfs mount data, e.g. "size=16k".
inline void run_on_private_tmpfs(const std::string& options, unsigned long flags,
                                 const std::function<std::string(const std::string&)>& check) {
  char pattern[] = "/tmp/ephport-tmpfs-XXXXXX";
  ASSERT_NE(::mkdtemp(pattern), nullptr) << std::strerror(errno);
  std::string mount_point = pattern;
  int fds[2];
  ASSERT_EQ(::pipe2(fds, O_CLOEXEC), 0);

  pid_t child = ::fork();
  ASSERT_GE(child, 0) << std::strerror(errno);
  if (child == 0) {
    ::close(fds[0]);
    std::string result;
    if (::unshare(CLONE_NEWNS) != 0 ||
        ::mount("none", "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0 ||
        ::mount("tmpfs", mount_point.c_str(), "tmpfs", flags, options.c_str()) != 0) {
      result = std::string("SKIP: cannot mount a private tmpfs: ") + std::strerror(errno);
    } else {
      try {
        result = check(mount_point);
      } catch (const std::exception& error) {
        result = std::string("unexpected exception: ") + error.what();
      }
    }
    [[maybe_unused]] ssize_t ignored = ::write(fds[1], result.data(), result.size());
    ::_exit(0);
  }

  ::close(fds[1]);
  std::string result;
  char buffer[4096];
  ssize_t count;
  while ((count = ::read(fds[0], buffer, sizeof buffer)) > 0) {
    result.append(buffer, static_cast<size_t>(count));
  }
  ::close(fds[0]);
  int status = 0;
  ::waitpid(child, &status, 0);
  std::filesystem::remove_all(mount_point);
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "child status " << status;
  if (result.rfind("SKIP: ", 0) == 0) {
    GTEST_SKIP() << result.substr(6);
  }
  EXPECT_EQ(result, "");
}

}  // namespace ephport::testing
