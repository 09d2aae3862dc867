// collect_sockets(): source selection, and netlink against /proc/net on the
// live network namespace of the test (no root needed).

#include "collect/linux/linux_collector.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <netinet/in.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstddef>
#include <cstdio>
#include <functional>
#include <iterator>
#include <map>
#include <tuple>

#include "collect_fixtures.h"
#include "util/error.h"
#include "util/fd.h"

namespace ephport {
namespace {

TEST(LinuxCollector, ProcfsSourceReadsTheProcRoot) {
  CollectOptions options;
  options.source = Source::procfs;
  options.proc_root = testing::fixture_path("proc");
  size_t count = 0;
  EXPECT_EQ(socket_source_name(collect_sockets(options, [&](const SocketRecord&) { ++count; })),
            "procfs");
  EXPECT_EQ(count, 23u);
}

TEST(LinuxCollector, RespectsTheProtocolChoice) {
  CollectOptions options;
  options.source = Source::procfs;
  options.proc_root = testing::fixture_path("proc");
  options.tcp = false;
  collect_sockets(options,
                  [](const SocketRecord& record) { EXPECT_EQ(record.protocol, Protocol::udp); });
  options.tcp = true;
  options.udp = false;
  options.source = Source::netlink;
  collect_sockets(options,
                  [](const SocketRecord& record) { EXPECT_EQ(record.protocol, Protocol::tcp); });
}

// The sockets both sources can see, by what identifies them.
using Key = std::tuple<Protocol, SockState, Address, uint16_t, Address, uint16_t>;
using Census = std::map<Key, size_t>;

Census census(Source source) {
  CollectOptions options;
  options.source = source;
  Census counts;
  collect_sockets(options, [&](const SocketRecord& record) {
    bool wanted = record.protocol == Protocol::udp || record.state == SockState::listen ||
                  record.state == SockState::established;
    if (wanted) {
      ++counts[{record.protocol, record.state, record.local, record.local_port, record.remote,
                record.remote_port}];
    }
  });
  return counts;
}

// Keys present in both, at the smaller count: sockets that lived through
// the time between the two reads.
Census both(const Census& first, const Census& second) {
  Census common;
  for (const auto& [key, count] : first) {
    auto found = second.find(key);
    if (found != second.end()) {
      common[key] = std::min(count, found->second);
    }
  }
  return common;
}

void expect_within(const Census& stable, const Census& snapshot, const char* what) {
  for (const auto& [key, count] : stable) {
    auto found = snapshot.find(key);
    size_t seen = found == snapshot.end() ? 0 : found->second;
    EXPECT_GE(seen, count) << what << ": " << protocol_name(std::get<0>(key)) << " "
                           << state_name(std::get<1>(key)) << " " << std::get<2>(key).str() << ":"
                           << std::get<3>(key) << " " << std::get<4>(key).str() << ":"
                           << std::get<5>(key);
  }
}

// A TCP socket bound to 127.0.0.1 and a port the kernel picks; `address`
// gets both.
UniqueFd bound_loopback_socket(sockaddr_in& address) {
  UniqueFd fd(socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  address = {};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t length = sizeof address;
  EXPECT_EQ(bind(fd.get(), reinterpret_cast<sockaddr*>(&address), sizeof address), 0);
  EXPECT_EQ(getsockname(fd.get(), reinterpret_cast<sockaddr*>(&address), &length), 0);
  return fd;
}

// The host keeps opening and closing sockets, so compare only sockets that
// were there before and after the other source's read: read procfs, netlink,
// procfs, netlink; what both netlink reads saw must be in the procfs read
// between them, and the other way round.
TEST(LinuxCollector, NetlinkAndProcfsSeeTheSameLiveSockets) {
  // Our own sockets, so the comparison is never empty.
  sockaddr_in address{};
  UniqueFd listener = bound_loopback_socket(address);
  ASSERT_EQ(listen(listener.get(), 4), 0);
  UniqueFd client(socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  ASSERT_EQ(connect(client.get(), reinterpret_cast<sockaddr*>(&address), sizeof address), 0);
  UniqueFd server(accept(listener.get(), nullptr, nullptr));
  ASSERT_TRUE(server.valid());

  Census procfs_before = census(Source::procfs);
  Census netlink_before = census(Source::netlink);
  Census procfs_after = census(Source::procfs);
  Census netlink_after = census(Source::netlink);

  expect_within(both(netlink_before, netlink_after), procfs_after, "netlink only");
  expect_within(both(procfs_before, procfs_after), netlink_before, "procfs only");

  const Address loopback = *Address::parse("127.0.0.1");
  const uint16_t port = ntohs(address.sin_port);
  Key ours{Protocol::tcp, SockState::listen, loopback, port, Address::any_v4(), 0};
  EXPECT_EQ(netlink_before.count(ours), 1u);
  EXPECT_EQ(procfs_before.count(ours), 1u);
  size_t established = 0;
  for (const auto& [key, count] : netlink_before) {
    if (std::get<1>(key) == SockState::established &&
        (std::get<3>(key) == port || std::get<5>(key) == port) && std::get<2>(key) == loopback) {
      established += count;
    }
  }
  EXPECT_EQ(established, 2u);  // both ends of our connection
}

// Linux 6.8 and later dump bound-only sockets (state bit 13).
bool kernel_dumps_bound_only() {
  utsname names{};
  int major = 0;
  int minor = 0;
  return uname(&names) == 0 && std::sscanf(names.release, "%d.%d", &major, &minor) == 2 &&
         (major > 6 || (major == 6 && minor >= 8));
}

TEST(LinuxCollector, LiveNetlinkDumpDeliversListenAndBoundOnlyFirst) {
  sockaddr_in address{};
  UniqueFd bound = bound_loopback_socket(address);
  const uint16_t port = ntohs(address.sin_port);

  CollectOptions options;
  options.source = Source::netlink;
  bool other_tcp_seen = false;
  bool ours_seen = false;
  collect_sockets(options, [&](const SocketRecord& record) {
    if (record.protocol != Protocol::tcp) {
      return;
    }
    if (record.state == SockState::listen || record.is_bound_only()) {
      EXPECT_FALSE(other_tcp_seen) << testing::describe(record);
      ours_seen = ours_seen || (record.is_bound_only() && record.local_port == port);
    } else {
      other_tcp_seen = true;
    }
  });
  if (kernel_dumps_bound_only()) {
    EXPECT_TRUE(ours_seen) << "bound-only 127.0.0.1:" << port;
  }
}

#if defined(__x86_64__)
constexpr uint32_t kAuditArch = AUDIT_ARCH_X86_64;
#elif defined(__aarch64__)
constexpr uint32_t kAuditArch = AUDIT_ARCH_AARCH64;
#else
constexpr uint32_t kAuditArch = 0;
#endif

// Makes socket(AF_NETLINK, ...) fail with EACCES in this process, as a
// container's seccomp policy can. Unprivileged (no_new_privs).
bool forbid_netlink_sockets() {
  sock_filter filter[] = {
      BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(seccomp_data, arch)),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, kAuditArch, 1, 0),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
      BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(seccomp_data, nr)),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_socket, 0, 3),
      BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(seccomp_data, args[0])),  // low half (LE)
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AF_NETLINK, 0, 1),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | (EACCES & SECCOMP_RET_DATA)),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
  };
  sock_fprog program{static_cast<unsigned short>(std::size(filter)), filter};
  return prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == 0 &&
         prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &program) == 0;
}

// Runs `body` in a child without netlink sockets; returns what it wrote.
std::string without_netlink(const std::function<std::string()>& body) {
  int fds[2];
  if (pipe(fds) != 0) {
    return "pipe failed";
  }
  pid_t child = fork();
  if (child == 0) {
    close(fds[0]);
    std::string result = forbid_netlink_sockets() ? body() : "seccomp failed";
    ssize_t written = write(fds[1], result.data(), result.size());
    _exit(written == static_cast<ssize_t>(result.size()) ? 0 : 1);
  }
  close(fds[1]);
  std::string result;
  char buffer[512];
  ssize_t got = 0;
  while ((got = read(fds[0], buffer, sizeof buffer)) > 0) {
    result.append(buffer, static_cast<size_t>(got));
  }
  close(fds[0]);
  int status = 0;
  waitpid(child, &status, 0);
  return result;
}

TEST(LinuxCollector, AutomaticFallsBackToProcfsWithoutNetlink) {
  if (kAuditArch == 0) {
    GTEST_SKIP() << "no seccomp architecture constant for this CPU";
  }
  CollectOptions options;
  options.proc_root = testing::fixture_path("proc");
  EXPECT_EQ(without_netlink([&] {
              size_t count = 0;
              std::string source(socket_source_name(
                  collect_sockets(options, [&](const SocketRecord&) { ++count; })));
              return source + " " + std::to_string(count);
            }),
            "procfs 23");
  options.source = Source::netlink;
  EXPECT_EQ(without_netlink([&] {
              return testing::error_text<RuntimeError>(
                  [&] { collect_sockets(options, [](const SocketRecord&) {}); });
            }),
            "cannot open a netlink sock_diag socket: Permission denied");
}

TEST(LinuxCollector, AutomaticUsesNetlinkWhenItWorks) {
  CollectOptions options;
  EXPECT_EQ(socket_source_name(collect_sockets(options, [](const SocketRecord&) {})), "netlink");
}

}  // namespace
}  // namespace ephport
