// The BPF bind-state reader against the kernel: which ports it reports as
// bind()-owned (linux-port-rules.md, rule 2), in a private namespace with the
// range 40000-40009, that it sees only the caller's namespace, and that each
// walk starts afresh although the program keeps its result in the kernel.
//
// A build without BPF fails here (it never skips): CI installs clang, bpftool
// and libbpf-dev through scripts/install-deps.sh, so the reader must be there.

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <initializer_list>
#include <mutex>
#include <set>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "collect/linux/bind_state.h"
#include "lab_support.h"

namespace ephport::lab {
namespace {

constexpr uint16_t kFirst = 40000;
constexpr uint16_t kLast = 40009;
constexpr uint16_t kServer = 5001;  // the lab's listener, outside the range
constexpr int kIpLocalPortRange = 51;

struct Option {
  int level;
  int name;
  int value;
};

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

UniqueFd tcp_socket(std::initializer_list<Option> options) {
  UniqueFd fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!fd.valid()) {
    fail_errno("socket()");
  }
  for (const Option& option : options) {
    if (::setsockopt(fd.get(), option.level, option.name, &option.value, sizeof option.value) !=
        0) {
      fail_errno("setsockopt " + std::to_string(option.name));
    }
  }
  return fd;
}

void bind_to(int fd, uint16_t port) {
  const sockaddr_in address = loopback(port);
  if (::bind(fd, reinterpret_cast<const sockaddr*>(&address), sizeof address) != 0) {
    fail_errno("bind 127.0.0.1:" + std::to_string(port));
  }
}

// A listener on 127.0.0.1:port.
UniqueFd listen_on(uint16_t port, std::initializer_list<Option> options = {}) {
  UniqueFd fd = tcp_socket(options);
  bind_to(fd.get(), port);
  if (::listen(fd.get(), 16) != 0) {
    fail_errno("listen");
  }
  return fd;
}

// A client connected to 127.0.0.1:port, bound to 127.0.0.1:0 first if
// `bind_first` (bind-before-connect). The server side is left to the caller.
UniqueFd connect_to(uint16_t port, bool bind_first, std::initializer_list<Option> options = {}) {
  UniqueFd fd = tcp_socket(options);
  if (bind_first) {
    bind_to(fd.get(), 0);
  }
  const sockaddr_in address = loopback(port);
  if (::connect(fd.get(), reinterpret_cast<const sockaddr*>(&address), sizeof address) != 0) {
    fail_errno("connect 127.0.0.1:" + std::to_string(port));
  }
  return fd;
}

UniqueFd accept_one(int listener) {
  UniqueFd child(::accept4(listener, nullptr, nullptr, SOCK_CLOEXEC));
  if (!child.valid()) {
    fail_errno("accept4");
  }
  return child;
}

std::set<uint16_t> set_of(std::initializer_list<std::vector<uint16_t>> lists) {
  std::set<uint16_t> all;
  for (const auto& list : lists) {
    all.insert(list.begin(), list.end());
  }
  return all;
}

// The bind-owned ports the reader reports inside the lab's range.
std::set<uint16_t> owned_in_range(const BindStateReport& report) {
  std::set<uint16_t> owned;
  for (uint32_t port = kFirst; port <= kLast; ++port) {
    if (report.bind_owned.contains(static_cast<uint16_t>(port))) {
      owned.insert(static_cast<uint16_t>(port));
    }
  }
  return owned;
}

// read_bind_state(), repeated until it walks `sockets` sockets: a server
// socket closed second sits in LAST_ACK until the client's last ACK is
// processed. At most 2 s; then the last report is returned as it is.
BindStateReport read_walking(uint64_t sockets) {
  BindStateReport report = read_bind_state();
  for (int i = 0; i < 100 && report.sockets != sockets; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    report = read_bind_state();
  }
  EXPECT_EQ(report.sockets, sockets);
  return report;
}

class BindStateBpfTest : public LabTest {
 protected:
  void SetUp() override {
    LabTest::SetUp();
    if (HasFatalFailure()) {
      return;
    }
    ASSERT_TRUE(bind_state_reader_built())
        << "ephport_core was built without the BPF bind-state reader; configure with "
           "-DEPHPORT_BPF=ON after scripts/install-deps.sh";
    lab().set_range(kFirst, kLast);
    lab().listen("127.0.0.1", kServer);
  }
};

TEST_F(BindStateBpfTest, PortsFromConnectAreNotBindOwned) {
  const auto plain = lab().connect("", "127.0.0.1", kServer, 3);
  const auto no_port = lab().connect("127.0.0.1", "127.0.0.1", kServer, 2, SourceBind::no_port);
  ASSERT_EQ(distinct_ports(plain, no_port), 5u);

  // The listener, 5 clients and their 5 accepted children.
  const BindStateReport report = read_walking(11);
  EXPECT_EQ(owned_in_range(report), std::set<uint16_t>{});
  EXPECT_TRUE(report.bind_owned.contains(kServer));  // listener and children
  EXPECT_EQ(report.bind_owned.size(), 1u);
  EXPECT_EQ(report.reuseaddr, 0u);
  EXPECT_EQ(report.reuseport, 0u);
  EXPECT_EQ(report.local_port_range, 0u);
}

TEST_F(BindStateBpfTest, BindBeforeConnectPortsAreBindOwned) {
  const auto plain = lab().connect("", "127.0.0.1", kServer, 1);
  const auto bound = lab().connect("127.0.0.1", "127.0.0.1", kServer, 2, SourceBind::take_port);

  const BindStateReport report = read_walking(7);
  EXPECT_EQ(owned_in_range(report), set_of({bound}));
  EXPECT_FALSE(report.bind_owned.contains(plain[0]));
}

TEST_F(BindStateBpfTest, Ipv6BindBeforeConnectPortIsBindOwned) {
  lab().listen("::1", 5002);
  const auto plain = lab().connect("", "::1", 5002, 1);
  const auto bound = lab().connect("::1", "::1", 5002, 1, SourceBind::take_port);

  // Two listeners, two clients, two children.
  const BindStateReport report = read_walking(6);
  EXPECT_EQ(owned_in_range(report), set_of({bound}));
  EXPECT_FALSE(report.bind_owned.contains(plain[0]));
  EXPECT_TRUE(report.bind_owned.contains(5002));
}

TEST_F(BindStateBpfTest, ListenerInRangeAndItsChildrenAreBindOwned) {
  UniqueFd listener = listen_on(40003);
  UniqueFd client_a = connect_to(40003, false);
  UniqueFd client_b = connect_to(40003, false);
  UniqueFd child_a = accept_one(listener.get());
  UniqueFd child_b = accept_one(listener.get());
  EXPECT_NE(local_port(client_a.get()), 40003);
  EXPECT_NE(local_port(client_b.get()), 40003);
  EXPECT_EQ(local_port(child_a.get()), 40003);

  // Lab listener, this listener, 2 clients, 2 children.
  EXPECT_EQ(owned_in_range(read_walking(6)), std::set<uint16_t>{40003});

  // Children that outlive their listener keep the port in bind() state:
  // sock_diag alone cannot see this (rule 9).
  listener.reset();
  EXPECT_EQ(owned_in_range(read_walking(5)), std::set<uint16_t>{40003});
}

TEST_F(BindStateBpfTest, TimeWaitKeepsTheStateOfItsSocket) {
  const auto bound = lab().time_wait("127.0.0.1", "127.0.0.1", kServer, 1, SourceBind::take_port);
  const auto plain = lab().time_wait("", "127.0.0.1", kServer, 1);
  ASSERT_NE(bound[0], plain[0]);

  // The listener and two TIME_WAIT clients (the servers are gone).
  const BindStateReport report = read_walking(3);
  EXPECT_EQ(owned_in_range(report), set_of({bound}));
}

TEST_F(BindStateBpfTest, ReuseAddrAndReusePortAreCounted) {
  UniqueFd reuseaddr = listen_on(5010, {{SOL_SOCKET, SO_REUSEADDR, 1}});
  UniqueFd reuseport_a = listen_on(5011, {{SOL_SOCKET, SO_REUSEPORT, 1}});
  UniqueFd reuseport_b = listen_on(5011, {{SOL_SOCKET, SO_REUSEPORT, 1}});
  // Its server side waits unaccepted in the lab listener's queue: a full
  // socket without either option.
  UniqueFd client =
      connect_to(kServer, false, {{SOL_SOCKET, SO_REUSEADDR, 1}, {SOL_SOCKET, SO_REUSEPORT, 1}});

  // 4 listeners, the client and its server side.
  const BindStateReport report = read_walking(6);
  EXPECT_EQ(report.reuseaddr, 2u);
  EXPECT_EQ(report.reuseport, 3u);
  EXPECT_EQ(report.local_port_range, 0u);
  EXPECT_EQ(owned_in_range(report), std::set<uint16_t>{});
}

TEST_F(BindStateBpfTest, LocalPortRangeIsCounted) {
  const Option range{IPPROTO_IP, kIpLocalPortRange, static_cast<int>(40005u | 40006u << 16)};
  UniqueFd plain = connect_to(kServer, false, {range});
  UniqueFd bound = connect_to(kServer, true, {range});
  const std::set<uint16_t> ports{local_port(plain.get()), local_port(bound.get())};
  ASSERT_EQ(ports, (std::set<uint16_t>{40005, 40006}));

  // The listener, 2 clients, 2 server sides (without the option).
  const BindStateReport report = read_walking(5);
  EXPECT_EQ(report.local_port_range, 2u);
  EXPECT_EQ(owned_in_range(report), std::set<uint16_t>{local_port(bound.get())});
}

TEST_F(BindStateBpfTest, OnlyTheCallersNamespaceIsWalked) {
  const auto bound = lab().connect("127.0.0.1", "127.0.0.1", kServer, 2, SourceBind::take_port);
  EXPECT_EQ(owned_in_range(read_walking(5)), set_of({bound}));
  {
    Lab other;  // a namespace of its own, left again at the end of the block
    const BindStateReport empty = read_bind_state();
    EXPECT_EQ(empty.sockets, 0u);
    EXPECT_EQ(empty.bind_owned.size(), 0u);
    other.listen("127.0.0.1", 6001);
    const BindStateReport one = read_walking(1);
    EXPECT_TRUE(one.bind_owned.contains(6001));
    EXPECT_EQ(one.bind_owned.size(), 1u);
  }
  // The loaded program is reused; each walk follows the caller's namespace.
  const BindStateReport again = read_walking(5);
  EXPECT_EQ(owned_in_range(again), set_of({bound}));
  EXPECT_FALSE(again.bind_owned.contains(6001));
}

// The program accumulates into one port bitmap and counters per loaded
// object: each walk must start from nothing, not from the last walk's bits.
TEST_F(BindStateBpfTest, EachWalkStartsAfresh) {
  UniqueFd reuseaddr = listen_on(40001, {{SOL_SOCKET, SO_REUSEADDR, 1}});
  UniqueFd reuseport = listen_on(40002, {{SOL_SOCKET, SO_REUSEPORT, 1}});

  // The lab listener and these two.
  const BindStateReport first = read_walking(3);
  const BindStateReport second = read_bind_state();
  for (const BindStateReport* report : {&first, &second}) {
    EXPECT_EQ(report->sockets, 3u);
    EXPECT_EQ(owned_in_range(*report), (std::set<uint16_t>{40001, 40002}));
    EXPECT_EQ(report->bind_owned.size(), 3u);
    EXPECT_EQ(report->reuseaddr, 1u);
    EXPECT_EQ(report->reuseport, 1u);
  }

  // A port freed between two walks is gone from the second.
  reuseaddr.reset();
  const BindStateReport third = read_walking(2);
  EXPECT_EQ(owned_in_range(third), std::set<uint16_t>{40002});
  EXPECT_EQ(third.bind_owned.size(), 2u);
  EXPECT_EQ(third.reuseaddr, 0u);
  EXPECT_EQ(third.reuseport, 1u);
}

// Port p is bit p % 64 of word p / 64: the first and last bits of words,
// and of the whole map, come back as the ports they stand for.
TEST_F(BindStateBpfTest, PortsAtTheEdgesOfTheBitmapAreReported) {
  const std::vector<uint16_t> ports{1, 63, 64, 127, 128, 65472, 65535};
  std::vector<UniqueFd> listeners;
  listeners.reserve(ports.size());
  for (uint16_t port : ports) {
    listeners.push_back(listen_on(port));
  }
  const BindStateReport report = read_walking(ports.size() + 1);
  std::set<uint16_t> expected(ports.begin(), ports.end());
  expected.insert(kServer);
  std::set<uint16_t> owned;
  for (uint32_t port = 0; port <= 65535; ++port) {
    if (report.bind_owned.contains(static_cast<uint16_t>(port))) {
      owned.insert(static_cast<uint16_t>(port));
    }
  }
  EXPECT_EQ(owned, expected);
}

// Walks share the program's result in the kernel, so callers on several
// threads take turns: each still gets a whole walk of its own. Enough
// listeners that one walk's updates are spread over its time.
TEST_F(BindStateBpfTest, WalksFromSeveralThreadsDoNotMix) {
  constexpr uint16_t kFirstListener = 6000;
  constexpr uint64_t kListeners = 200;
  std::vector<UniqueFd> listeners;
  listeners.reserve(kListeners);
  for (uint16_t port = kFirstListener; port < kFirstListener + kListeners; ++port) {
    listeners.push_back(listen_on(port, {{SOL_SOCKET, SO_REUSEADDR, 1}}));
  }
  const BindStateReport settled = read_walking(kListeners + 1);
  ASSERT_EQ(settled.bind_owned.size(), kListeners + 1);

  constexpr int kThreads = 4;
  constexpr int kWalks = 25;
  std::mutex mutex;
  std::vector<std::string> wrong;  // what the walks got wrong
  std::vector<std::thread> threads;
  threads.reserve(kThreads);
  // Threads start in the creating thread's network namespace, the lab's.
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&mutex, &wrong] {
      for (int walk = 0; walk < kWalks; ++walk) {
        try {
          const BindStateReport report = read_bind_state();
          if (report.sockets != kListeners + 1 || report.reuseaddr != kListeners ||
              report.bind_owned.size() != kListeners + 1) {
            const std::lock_guard<std::mutex> lock(mutex);
            wrong.push_back("sockets " + std::to_string(report.sockets) + ", reuseaddr " +
                            std::to_string(report.reuseaddr) + ", ports " +
                            std::to_string(report.bind_owned.size()));
          }
        } catch (const std::exception& error) {
          const std::lock_guard<std::mutex> lock(mutex);
          wrong.emplace_back(error.what());
        }
      }
    });
  }
  for (std::thread& thread : threads) {
    thread.join();
  }
  EXPECT_EQ(wrong, std::vector<std::string>{});
}

}  // namespace
}  // namespace ephport::lab
