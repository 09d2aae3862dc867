// scan_proc_owners() on tests/fixtures/proc and on trees it cannot read.

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <vector>

#include "collect/linux/proc_owners.h"
#include "collect/linux/sock_diag.h"
#include "collect_fixtures.h"
#include "snapshot/owner_table.h"
#include "util/error.h"

namespace ephport {
namespace {

namespace fs = std::filesystem;

std::vector<uint32_t> sorted_pids(const OwnerTable& table, uint64_t inode) {
  std::span<const uint32_t> found = table.pids_of(inode);
  std::vector<uint32_t> pids(found.begin(), found.end());
  std::sort(pids.begin(), pids.end());
  return pids;
}

TEST(Owners, ScansTheFixtureProcesses) {
  OwnerTable table = scan_proc_owners(testing::fixture_path("proc"));
  EXPECT_EQ(table.processes_scanned(), 2u);  // net/ and sys/ are not processes
  EXPECT_EQ(table.processes_unreadable(), 0u);
  EXPECT_TRUE(table.complete());
  EXPECT_EQ(table.size(), 24u);  // fds 3-26 of 6738; pipes and /dev/null are not sockets
  // The listener the forked child kept.
  EXPECT_EQ(sorted_pids(table, 16944), (std::vector<uint32_t>{6738, 6784}));
  EXPECT_EQ(sorted_pids(table, 16948), (std::vector<uint32_t>{6738}));
  EXPECT_TRUE(table.pids_of(15761).empty());  // pipe:[15761]
  EXPECT_TRUE(table.pids_of(0).empty());
}

// Same capture: every socket sock_diag reported with an inode has an owner.
TEST(Owners, OwnsEveryInodeOfTheSockDiagCapture) {
  OwnerTable table = scan_proc_owners(testing::fixture_path("proc"));
  size_t owned = 0;
  replay_sock_diag(testing::read_binary(testing::fixture_path("sock_diag/dump.bin")),
                   [&](const SocketRecord& record) {
                     if (record.inode != 0) {
                       EXPECT_FALSE(table.pids_of(record.inode).empty())
                           << testing::describe(record);
                       ++owned;
                     }
                   });
  EXPECT_EQ(owned, 24u);  // all but the TIME_WAIT and FIN_WAIT2 timewait sockets
}

TEST(Owners, AddKeepsEachPidOnce) {
  OwnerTable table;
  table.add(7, 100);
  table.add(7, 100);
  table.add(7, 200);
  std::span<const uint32_t> shared = table.pids_of(7);
  EXPECT_EQ(std::vector<uint32_t>(shared.begin(), shared.end()), (std::vector<uint32_t>{100, 200}));
  EXPECT_EQ(table.size(), 1u);
}

TEST(Owners, MissingProcRootIsAnError) {
  EXPECT_THROW(scan_proc_owners("/nonexistent/proc"), RuntimeError);
}

struct ScanCounts {
  size_t scanned = 0;
  size_t unreadable = 0;
  size_t owners_of_777 = 0;
};

// Scans `root` without privileges: as nobody in a child when we are root
// (root reads mode-000 directories), directly otherwise.
ScanCounts scan_unprivileged(const std::string& root) {
  auto scan = [&] {
    OwnerTable table = scan_proc_owners(root);
    return ScanCounts{table.processes_scanned(), table.processes_unreadable(),
                      table.pids_of(777).size()};
  };
  if (geteuid() != 0) {
    return scan();
  }
  int fds[2];
  if (pipe(fds) != 0) {
    ADD_FAILURE() << "pipe";
    return {};
  }
  pid_t child = fork();
  if (child == 0) {
    close(fds[0]);
    ScanCounts counts{};
    if (setgid(65534) == 0 && setuid(65534) == 0) {
      counts = scan();
    }
    ssize_t written = write(fds[1], &counts, sizeof counts);
    _exit(written == sizeof counts ? 0 : 1);
  }
  close(fds[1]);
  ScanCounts counts{};
  ssize_t got = read(fds[0], &counts, sizeof counts);
  close(fds[0]);
  int status = 0;
  waitpid(child, &status, 0);
  EXPECT_EQ(got, static_cast<ssize_t>(sizeof counts));
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  return counts;
}

TEST(Owners, CountsProcessesWhoseFdsCannotBeRead) {
  testing::ScratchDir scratch;
  const std::string& root = scratch.path();
  chmod(root.c_str(), 0755);
  fs::create_directories(root + "/100/fd");
  fs::create_symlink("socket:[777]", root + "/100/fd/3");
  fs::create_directories(root + "/200/fd");  // another user's process
  fs::create_symlink("socket:[777]", root + "/200/fd/3");
  chmod((root + "/200/fd").c_str(), 0);
  fs::create_directories(root + "/300");  // exited while we looked: no fd/
  fs::create_directories(root + "/self/fd");

  ScanCounts counts = scan_unprivileged(root);
  EXPECT_EQ(counts.scanned, 2u);
  EXPECT_EQ(counts.unreadable, 1u);
  EXPECT_EQ(counts.owners_of_777, 1u);

  chmod((root + "/200/fd").c_str(), 0755);  // so that it can be removed
}

}  // namespace
}  // namespace ephport
