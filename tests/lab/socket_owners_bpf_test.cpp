// The BPF socket-owner walk (SocketOwnerIterator) against /proc: a forked
// child holds 2000 TCP sockets over loopback in the lab's private network
// namespace, UNIX sockets and pipes; the walk must report every socket /proc
// shows for it, with the same owners, and nothing that is not a socket.
//
// A build without BPF fails here (it never skips), as bind_state_bpf_test.cpp.

#include "collect/linux/socket_owners_bpf.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <exception>
#include <filesystem>
#include <functional>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "collect/linux/proc_owners.h"
#include "lab_support.h"
#include "snapshot/owner_table.h"
#include "util/error.h"

namespace ephport::lab {
namespace {

constexpr uint16_t kFirstListener = 7001;
constexpr int kListeners = 8;
constexpr int kPairs = 996;  // 8 listeners + 996 clients + 996 accepted = 2000 TCP sockets
constexpr int kUnixPairs = 3;
constexpr int kPipes = 3;
// What the child holds: TCP and UNIX sockets, and pipe ends.
constexpr size_t kChildSockets = size_t{kListeners} + size_t{2} * kPairs + size_t{2} * kUnixPairs;
constexpr size_t kChildPipeEnds = size_t{2} * kPipes;

[[noreturn]] void fail_errno(const std::string& what) {
  throw std::runtime_error(what + ": " + std::strerror(errno));
}

sockaddr_in loopback(uint16_t port) {
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(port);
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  return address;
}

uint64_t inode_of(int fd) {
  struct stat status {};
  if (::fstat(fd, &status) != 0) {
    fail_errno("fstat");
  }
  return status.st_ino;
}

// What /proc/PID/fd shows: the inodes of "socket:[N]" and "pipe:[N]" links.
struct FdLinks {
  std::vector<uint64_t> sockets;
  std::vector<uint64_t> pipes;
};

FdLinks read_fd_links(pid_t pid) {
  FdLinks links;
  const std::string dir = "/proc/" + std::to_string(pid) + "/fd";
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    std::error_code error;
    const std::string target = std::filesystem::read_symlink(entry.path(), error).string();
    if (error) {
      continue;
    }
    for (auto [prefix, list] :
         {std::pair<std::string_view, std::vector<uint64_t>*>{"socket:[", &links.sockets},
          {"pipe:[", &links.pipes}}) {
      if (target.starts_with(prefix) && target.ends_with("]")) {
        list->push_back(
            std::stoull(target.substr(prefix.size(), target.size() - prefix.size() - 1)));
      }
    }
  }
  return links;
}

std::vector<uint32_t> sorted(std::span<const uint32_t> pids) {
  std::vector<uint32_t> copy(pids.begin(), pids.end());
  std::sort(copy.begin(), copy.end());
  return copy;
}

// A forked child that runs `build` (it opens its sockets), says so, and holds
// everything until the object is destroyed. The child inherits the parent's
// descriptors, so a socket the parent holds at construction is shared.
class Holder {
 public:
  explicit Holder(const std::function<void()>& build) {
    int hold[2];
    int ready[2];
    if (::pipe2(hold, O_CLOEXEC) != 0 || ::pipe2(ready, O_CLOEXEC) != 0) {
      fail_errno("pipe2");
    }
    const pid_t parent = ::getpid();
    pid_ = ::fork();
    if (pid_ < 0) {
      fail_errno("fork");
    }
    if (pid_ == 0) {
      ::close(hold[1]);
      ::close(ready[0]);
      char result = 'r';
      try {
        if (::prctl(PR_SET_PDEATHSIG, SIGKILL) != 0 || ::getppid() != parent) {
          ::_exit(1);
        }
        build();
      } catch (const std::exception&) {
        result = 'f';
      }
      (void)!::write(ready[1], &result, 1);
      char byte = 0;
      while (::read(hold[0], &byte, 1) > 0) {
      }
      ::_exit(0);
    }
    ::close(hold[0]);
    ::close(ready[1]);
    hold_ = UniqueFd(hold[1]);
    UniqueFd answer(ready[0]);
    pollfd entry{answer.get(), POLLIN, 0};
    char result = 0;
    if (::poll(&entry, 1, 30000) != 1 || ::read(answer.get(), &result, 1) != 1 || result != 'r') {
      throw std::runtime_error("the holder child failed to open its sockets");
    }
  }
  ~Holder() {
    hold_.reset();  // EOF: the child exits
    for (int i = 0; i < 50; ++i) {
      if (::waitpid(pid_, nullptr, WNOHANG) == pid_) {
        return;
      }
      ::usleep(100000);
    }
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
  }
  Holder(const Holder&) = delete;
  Holder& operator=(const Holder&) = delete;

  pid_t pid() const { return pid_; }

 private:
  pid_t pid_ = -1;
  UniqueFd hold_;
};

// Built in the child: descriptors it keeps until it exits.
std::vector<UniqueFd>& child_fds() {
  static std::vector<UniqueFd> fds;
  return fds;
}

void raise_fd_limit(rlim_t wanted) {
  rlimit limit{};
  if (::getrlimit(RLIMIT_NOFILE, &limit) != 0) {
    fail_errno("getrlimit");
  }
  limit.rlim_cur = std::max(limit.rlim_cur, wanted);
  limit.rlim_max = std::max(limit.rlim_max, wanted);
  if (::setrlimit(RLIMIT_NOFILE, &limit) != 0) {
    fail_errno("setrlimit");
  }
}

// The population of the child: kListeners listeners, kPairs connections to
// them (client and accepted side), kUnixPairs UNIX socket pairs, kPipes
// pipes and /dev/null.
void build_population() {
  std::vector<UniqueFd>& fds = child_fds();
  raise_fd_limit(4096);
  std::vector<int> listeners;
  for (int i = 0; i < kListeners; ++i) {
    UniqueFd fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
    const sockaddr_in address = loopback(static_cast<uint16_t>(kFirstListener + i));
    if (!fd.valid() ||
        ::bind(fd.get(), reinterpret_cast<const sockaddr*>(&address), sizeof address) != 0 ||
        ::listen(fd.get(), 1024) != 0) {
      fail_errno("listener");
    }
    listeners.push_back(fd.get());
    fds.push_back(std::move(fd));
  }
  for (int i = 0; i < kPairs; ++i) {
    UniqueFd client(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
    const sockaddr_in address = loopback(static_cast<uint16_t>(kFirstListener + i % kListeners));
    if (!client.valid() ||
        ::connect(client.get(), reinterpret_cast<const sockaddr*>(&address), sizeof address) != 0) {
      fail_errno("connect");
    }
    UniqueFd server(
        ::accept4(listeners[static_cast<size_t>(i % kListeners)], nullptr, nullptr, SOCK_CLOEXEC));
    if (!server.valid()) {
      fail_errno("accept4");
    }
    fds.push_back(std::move(client));
    fds.push_back(std::move(server));
  }
  for (int i = 0; i < kUnixPairs; ++i) {
    int pair[2];
    if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair) != 0) {
      fail_errno("socketpair");
    }
    fds.emplace_back(pair[0]);
    fds.emplace_back(pair[1]);
  }
  for (int i = 0; i < kPipes; ++i) {
    int pipe[2];
    if (::pipe2(pipe, O_CLOEXEC) != 0) {
      fail_errno("pipe2");
    }
    fds.emplace_back(pipe[0]);
    fds.emplace_back(pipe[1]);
  }
  fds.emplace_back(::open("/dev/null", O_RDONLY | O_CLOEXEC));
}

class SocketOwnersBpfTest : public LabTest {
 protected:
  void SetUp() override {
    LabTest::SetUp();
    if (HasFatalFailure()) {
      return;
    }
    ASSERT_TRUE(socket_owner_iterator_built())
        << "ephport_core was built without the BPF socket-owner walk; configure with "
           "-DEPHPORT_BPF=ON after scripts/install-deps.sh";
  }
};

// Every socket /proc shows for `pid` is in `bpf` with the owners /proc gives
// it; no pipe of `pid` is in `bpf`. Returns the number of sockets checked.
size_t expect_same_as_proc(const OwnerTable& bpf, const OwnerTable& proc, pid_t pid) {
  const FdLinks links = read_fd_links(pid);
  for (uint64_t inode : links.sockets) {
    SCOPED_TRACE("socket:[" + std::to_string(inode) + "]");
    const std::vector<uint32_t> owners = sorted(proc.pids_of(inode));
    EXPECT_TRUE(std::find(owners.begin(), owners.end(), static_cast<uint32_t>(pid)) !=
                owners.end());
    EXPECT_EQ(sorted(bpf.pids_of(inode)), owners);
  }
  for (uint64_t inode : links.pipes) {
    EXPECT_TRUE(bpf.pids_of(inode).empty()) << "pipe:[" << inode << "] reported as a socket";
  }
  return links.sockets.size();
}

TEST_F(SocketOwnersBpfTest, ChildSocketsMatchProc) {
  Holder child(build_population);
  SocketOwnerIterator iterator;
  OwnerTable bpf;
  const size_t processes = iterator.scan(bpf);
  const OwnerTable proc = scan_proc_owners("/proc");

  const size_t checked = expect_same_as_proc(bpf, proc, child.pid());
  EXPECT_EQ(checked, kChildSockets);
  // Its own pipes, and those it inherited (the holder's, the test runner's).
  EXPECT_GE(read_fd_links(child.pid()).pipes.size(), kChildPipeEnds);
  // This process and the child at least; never more than /proc lists.
  EXPECT_GE(processes, 2u);
  EXPECT_LE(processes, proc.processes_scanned() + 16);  // processes started since
  EXPECT_GE(bpf.size(), checked);
  lab_note("BPF walk: " + std::to_string(bpf.size()) + " sockets, " + std::to_string(processes) +
           " processes; /proc: " + std::to_string(proc.size()) + " sockets, " +
           std::to_string(proc.processes_scanned()) + " processes");
}

TEST_F(SocketOwnersBpfTest, SocketSharedAfterForkHasBothOwners) {
  UniqueFd shared(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  ASSERT_TRUE(shared.valid());
  const uint64_t inode = inode_of(shared.get());
  Holder child([] {});  // inherits `shared`
  SocketOwnerIterator iterator;
  OwnerTable bpf;
  iterator.scan(bpf);

  std::vector<uint32_t> both{static_cast<uint32_t>(::getpid()), static_cast<uint32_t>(child.pid())};
  std::sort(both.begin(), both.end());
  EXPECT_EQ(sorted(bpf.pids_of(inode)), both);
  expect_same_as_proc(bpf, scan_proc_owners("/proc"), child.pid());
}

TEST_F(SocketOwnersBpfTest, SecondScanOnTheSameIteratorSeesChanges) {
  Holder child(build_population);
  SocketOwnerIterator iterator;
  UniqueFd closed(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  ASSERT_TRUE(closed.valid());
  const uint64_t closed_inode = inode_of(closed.get());
  const auto self = static_cast<uint32_t>(::getpid());

  OwnerTable first;
  iterator.scan(first);
  EXPECT_EQ(sorted(first.pids_of(closed_inode)), std::vector<uint32_t>{self});

  closed.reset();
  UniqueFd opened(::socket(AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0));
  ASSERT_TRUE(opened.valid());
  OwnerTable second;
  const size_t processes = iterator.scan(second);
  EXPECT_GE(processes, 2u);
  EXPECT_TRUE(second.pids_of(closed_inode).empty());
  EXPECT_EQ(sorted(second.pids_of(inode_of(opened.get()))), std::vector<uint32_t>{self});
  expect_same_as_proc(second, scan_proc_owners("/proc"), child.pid());
}

TEST_F(SocketOwnersBpfTest, ThreadWithItsOwnFileTableIsReportedUnderItsProcess) {
  // The child's second thread unshares its file table and opens a socket
  // there: /proc/PID/fd (the leader's table) does not show it, the walk does.
  int report[2];
  ASSERT_EQ(::pipe2(report, O_CLOEXEC), 0);
  UniqueFd report_read(report[0]);
  UniqueFd report_write(report[1]);
  Holder child([&report_write] {
    std::thread([fd = report_write.get()] {
      if (::unshare(CLONE_FILES) != 0) {
        return;
      }
      const int socket = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
      const uint64_t inode = socket < 0 ? 0 : inode_of(socket);
      (void)!::write(fd, &inode, sizeof inode);
      ::pause();  // keeps the table until the process exits
    }).detach();
  });
  report_write.reset();
  uint64_t inode = 0;
  pollfd entry{report_read.get(), POLLIN, 0};
  ASSERT_EQ(::poll(&entry, 1, 10000), 1);
  ASSERT_EQ(::read(report_read.get(), &inode, sizeof inode), static_cast<ssize_t>(sizeof inode));
  ASSERT_NE(inode, 0u);

  SocketOwnerIterator iterator;
  OwnerTable bpf;
  iterator.scan(bpf);
  EXPECT_EQ(sorted(bpf.pids_of(inode)), std::vector<uint32_t>{static_cast<uint32_t>(child.pid())});
  EXPECT_TRUE(scan_proc_owners("/proc").pids_of(inode).empty());
}

// Runs `body` in a grandchild that is pid 1 of a new pid namespace (with a
// mount namespace of its own), and returns its exit status: 0 when `body`
// returned true, 1 when it returned false, 2 when it threw.
int in_new_pid_namespace(const std::function<bool()>& body) {
  const pid_t child = ::fork();
  if (child < 0) {
    fail_errno("fork");
  }
  if (child == 0) {
    if (::unshare(CLONE_NEWPID | CLONE_NEWNS) != 0) {
      ::_exit(3);
    }
    const pid_t grandchild = ::fork();
    if (grandchild == 0) {
      int code = 2;
      try {
        code = body() ? 0 : 1;
      } catch (const std::exception&) {
        code = 2;
      }
      ::_exit(code);
    }
    int status = 0;
    if (grandchild < 0 || ::waitpid(grandchild, &status, 0) != grandchild || !WIFEXITED(status)) {
      ::_exit(4);
    }
    ::_exit(WEXITSTATUS(status));
  }
  int status = 0;
  // The body loads a BPF program and walks: seconds at most.
  for (int i = 0; i < 300; ++i) {
    if (::waitpid(child, &status, WNOHANG) == child) {
      return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    }
    ::usleep(100000);
  }
  ::kill(child, SIGKILL);
  ::waitpid(child, &status, 0);
  return -1;
}

TEST_F(SocketOwnersBpfTest, PidsAreThoseOfTheReadersPidNamespace) {
  // pid 1 of a new namespace, with /proc mounted for it: its socket must be
  // reported under pid 1, the id it and its /proc know it by.
  const int status = in_new_pid_namespace([] {
    if (::mount("none", "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0 ||
        ::mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, nullptr) != 0) {
      return false;
    }
    UniqueFd socket(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
    SocketOwnerIterator iterator;
    OwnerTable bpf;
    const size_t processes = iterator.scan(bpf);
    const auto owners = bpf.pids_of(inode_of(socket.get()));
    return ::getpid() == 1 && processes == 1 && owners.size() == 1 && owners[0] == 1;
  });
  EXPECT_EQ(status, 0) << "1: wrong pid or process count, 2: threw, 3-4: set-up failed";
}

TEST_F(SocketOwnersBpfTest, RefusesWhenProcIsOfAnotherPidNamespace) {
  // The same without remounting /proc: it shows the parent namespace's pids,
  // which the walk cannot give; the constructor must refuse.
  const int status = in_new_pid_namespace([] {
    try {
      SocketOwnerIterator iterator;
    } catch (const RuntimeError& error) {
      return std::string_view(error.what()).find("/proc is mounted for an ancestor") !=
             std::string_view::npos;
    }
    return false;
  });
  EXPECT_EQ(status, 0) << "1: the constructor accepted it, or threw another error";
}

}  // namespace
}  // namespace ephport::lab
