// The /proc/net parser on the captured tree tests/fixtures/proc/net.

#include "collect/linux/proc_net.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "collect/linux/sock_diag.h"
#include "collect_fixtures.h"
#include "util/error.h"

namespace ephport {
namespace {

using testing::describe;
namespace fs = std::filesystem;

// Rows copied from the fixture files.
constexpr std::string_view kListen4 =
    "   0: 0100007F:1388 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 "
    "16944 1 00000000edf7bae9 100 0 0 10 0                     ";
constexpr std::string_view kTimeWait4 =
    "   5: 0100007F:9CA2 0100007F:1388 06 00000000:00000000 03:00001755 00000000     0        0 0 "
    "3 00000000247e7dee                                      ";
constexpr std::string_view kKeepalive4 =
    "   4: 0100007F:9C90 0100007F:1388 01 00000000:00000000 02:0000EA40 00000000     0        0 "
    "16948 3 000000001392be4b 20 0 0 10 -1                     ";
constexpr std::string_view kLoopback6 =
    "   2: 00000000000000000000000001000000:1770 00000000000000000000000001000000:9C58 01 "
    "00000000:00000000 00:00000000 00000000     0        0 16953 1 00000000821beb92 20 0 0 10 -1";
constexpr std::string_view kMapped6 =
    "   5: 0000000000000000FFFF00000100007F:9C4E 0000000000000000FFFF00000100007F:1388 06 "
    "00000000:00000000 03:0000175A 00000000     0        0 0 3 000000005069e6b5";
constexpr std::string_view kUdp4 =
    " 9158: 00000000:14E9 00000000:0000 07 00000000:00000000 00:00000000 00000000     0        0 "
    "16968 2 0000000095490f2b 0         ";

std::string parsed(std::string_view line, Protocol protocol, bool ipv6) {
  auto record = parse_proc_net_line(line, protocol, ipv6);
  return record ? describe(*record) : "nullopt";
}

TEST(ProcNetLine, ParsesIpv4Rows) {
  EXPECT_EQ(parsed(kListen4, Protocol::tcp, false),
            "tcp LISTEN 127.0.0.1:5000 0.0.0.0:0 ino=16944");
  // tm->when in USER_HZ ticks: 0x1755 = 5973 -> 59730 ms.
  EXPECT_EQ(parsed(kTimeWait4, Protocol::tcp, false),
            "tcp TIME_WAIT 127.0.0.1:40098 127.0.0.1:5000 ino=0 timer=3:59730ms");
  EXPECT_EQ(parsed(kKeepalive4, Protocol::tcp, false),
            "tcp ESTABLISHED 127.0.0.1:40080 127.0.0.1:5000 ino=16948 timer=2:599680ms");
  EXPECT_EQ(parsed(kUdp4, Protocol::udp, false), "udp CLOSE 0.0.0.0:5353 0.0.0.0:0 ino=16968");
}

TEST(ProcNetLine, ParsesIpv6RowsWordByWord) {
  EXPECT_EQ(parsed(kLoopback6, Protocol::tcp, true),
            "tcp6 ESTABLISHED ::1:6000 ::1:40024 ino=16953");
  EXPECT_EQ(parsed(kMapped6, Protocol::tcp, true),
            "tcp6 TIME_WAIT 127.0.0.1:40014 127.0.0.1:5000 ino=0 timer=3:59780ms");
  // A word order bug would turn 2001:db8::1 into something else.
  auto record = parse_proc_net_line(
      "0: B80D0120000000000000000001000000:0050 00000000000000000000000000000000:0000 0A "
      "00000000:00000000 00:00000000 00000000 1000 0 77",
      Protocol::tcp, true);
  ASSERT_TRUE(record);
  EXPECT_EQ(record->local.str(), "2001:db8::1");
  EXPECT_EQ(record->uid, 1000u);
  EXPECT_EQ(record->inode, 77u);
  EXPECT_EQ(record->v6only, -1);  // /proc/net does not show it
}

TEST(ProcNetLine, ConvertsTicksWithTheGivenClock) {
  auto record = parse_proc_net_line(kTimeWait4, Protocol::tcp, false, 1000);
  ASSERT_TRUE(record);
  EXPECT_EQ(record->expires_ms, 5973u);
}

TEST(ProcNetLine, RejectsHeadersAndGarbage) {
  const std::vector<std::string> bad = {
      "",
      "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid",
      "garbage",
      "   0: 0100007F:1388",
      "   0: 0100007F:1388 00000000:0000 0A",
      "   0: 0100007G:1388 00000000:0000 0A 00000000:00000000 00:00000000 00000000 0 0 1",
      "   0: 100007F:1388 00000000:0000 0A 00000000:00000000 00:00000000 00000000 0 0 1",
      "   0: 0100007F-1388 00000000:0000 0A 00000000:00000000 00:00000000 00000000 0 0 1",
      "   0: 0100007F:1388 00000000:0000 00 00000000:00000000 00:00000000 00000000 0 0 1",
      "   0: 0100007F:1388 00000000:0000 FF 00000000:00000000 00:00000000 00000000 0 0 1",
      "   0: 0100007F:1388 00000000:0000 0A 00000000:00000000 09:00000000 00000000 0 0 1",
      "   0: 0100007F:1388 00000000:0000 0A 00000000:00000000 00:00000000 00000000 x 0 1",
      "   0: 0100007F:1388 00000000:0000 0A 00000000:00000000 00:00000000 00000000 0 0 -1",
      "   0: 0100007F:1388 00000000:0000 0A 00000000:00000000 00:00000000 00000000 0 0",
      "   x: 0100007F:1388 00000000:0000 0A 00000000:00000000 00:00000000 00000000 0 0 1",
  };
  for (const std::string& line : bad) {
    EXPECT_FALSE(parse_proc_net_line(line, Protocol::tcp, false)) << line;
  }
  // An IPv4 row read as IPv6 and the reverse.
  EXPECT_FALSE(parse_proc_net_line(kListen4, Protocol::tcp, true));
  EXPECT_FALSE(parse_proc_net_line(kLoopback6, Protocol::tcp, false));
}

std::vector<std::string> read_tree(const std::string& proc_root, bool tcp = true, bool udp = true) {
  std::vector<std::string> seen;
  read_proc_net(proc_root, tcp, udp,
                [&](const SocketRecord& record) { seen.push_back(describe(record)); });
  return seen;
}

TEST(ProcNet, ReadsTheFixtureListenersFirst) {
  const long hz = sysconf(_SC_CLK_TCK);
  if (hz != 100) {
    GTEST_SKIP() << "the expected timers assume USER_HZ 100, this host has " << hz;
  }
  const std::vector<std::string> expected = {
      // Pass 1: LISTEN rows of tcp, then tcp6.
      "tcp LISTEN 127.0.0.1:5000 0.0.0.0:0 ino=16944",
      "tcp LISTEN 0.0.0.0:5001 0.0.0.0:0 ino=16947",
      "tcp6 LISTEN :::6000 :::0 ino=16945",
      "tcp6 LISTEN :::7000 :::0 ino=16946",
      // Pass 2: the other rows.
      "tcp ESTABLISHED 127.0.0.1:5000 127.0.0.1:40096 ino=16957",
      "tcp FIN_WAIT2 127.0.0.1:40026 127.0.0.1:5000 ino=0 timer=3:29780ms",
      "tcp ESTABLISHED 127.0.0.1:40080 127.0.0.1:5000 ino=16948 timer=2:599680ms",
      "tcp TIME_WAIT 127.0.0.1:40098 127.0.0.1:5000 ino=0 timer=3:59730ms",
      "tcp ESTABLISHED 127.0.0.1:5000 127.0.0.2:40024 ino=16951",
      "tcp ESTABLISHED 127.0.0.2:40024 127.0.0.1:5000 ino=16950",
      "tcp ESTABLISHED 127.0.0.1:5000 127.0.0.1:40080 ino=16949",
      "tcp CLOSE_WAIT 127.0.0.1:5000 127.0.0.1:40026 ino=16963",
      "tcp ESTABLISHED 127.0.0.1:40062 127.0.0.1:7000 ino=16954",
      "tcp6 ESTABLISHED ::1:6000 ::1:40024 ino=16953",
      "tcp6 ESTABLISHED ::1:40024 ::1:6000 ino=16952",
      "tcp6 ESTABLISHED 127.0.0.1:7000 127.0.0.1:40062 ino=16955",
      "tcp6 TIME_WAIT 127.0.0.1:40014 127.0.0.1:5000 ino=0 timer=3:59780ms",
      "tcp6 ESTABLISHED 127.0.0.1:40096 127.0.0.1:5000 ino=16956",
      "udp CLOSE 0.0.0.0:5353 0.0.0.0:0 ino=16968",
      "udp ESTABLISHED 127.0.0.1:40055 127.0.0.1:5353 ino=16969",
      "udp6 CLOSE :::5354 :::0 ino=16970",
      "udp6 CLOSE :::5355 :::0 ino=16971",
      "udp6 ESTABLISHED 127.0.0.1:40030 127.0.0.1:5353 ino=16972",
  };
  EXPECT_EQ(read_tree(testing::fixture_path("proc")), expected);
}

TEST(ProcNet, HonoursTheProtocolChoice) {
  std::vector<std::string> udp_only = read_tree(testing::fixture_path("proc"), false, true);
  EXPECT_EQ(udp_only.size(), 5u);
  EXPECT_EQ(read_tree(testing::fixture_path("proc"), true, false).size(), 18u);
}

// The two captures were taken at the same moment: /proc/net must show the
// same sockets as sock_diag, minus the bound-only ones it cannot see, and
// without the fields it lacks (device, v6only, no_port, exact timers).
TEST(ProcNet, MatchesTheSockDiagCaptureOfTheSameMoment) {
  auto key = [](SocketRecord record) {
    record.ifindex = 0;
    record.v6only = -1;
    record.bind_address_no_port = false;
    record.expires_ms = 0;
    return describe(record);
  };
  std::vector<std::string> from_netlink;
  replay_sock_diag(testing::read_binary(testing::fixture_path("sock_diag/dump.bin")),
                   [&](const SocketRecord& record) {
                     if (!record.is_bound_only()) {
                       from_netlink.push_back(key(record));
                     }
                   });
  std::vector<std::string> from_proc;
  read_proc_net(testing::fixture_path("proc"), true, true,
                [&](const SocketRecord& record) { from_proc.push_back(key(record)); });
  std::sort(from_netlink.begin(), from_netlink.end());
  std::sort(from_proc.begin(), from_proc.end());
  EXPECT_EQ(from_proc, from_netlink);
}

class ProcNetTree : public ::testing::Test {
 protected:
  void SetUp() override { fs::create_directories(root_ + "/net"); }
  void copy(const std::string& table) {
    fs::copy_file(testing::fixture_path("proc/net/" + table), root_ + "/net/" + table);
  }
  std::string error_of_read() {
    return testing::error_text<RuntimeError>([&] { read_tree(root_); });
  }
  testing::ScratchDir scratch_;
  const std::string root_ = scratch_.path();
};

TEST_F(ProcNetTree, MissingIpv6TablesAreSkipped) {
  copy("tcp");
  copy("udp");
  std::vector<std::string> seen = read_tree(root_);
  EXPECT_EQ(seen.size(), 13u);  // 11 tcp + 2 udp rows
  for (const std::string& line : seen) {
    EXPECT_NE(line.substr(0, 4), "tcp6") << line;
    EXPECT_NE(line.substr(0, 4), "udp6") << line;
  }
}

TEST_F(ProcNetTree, MissingTcpTableIsAnError) {
  copy("udp");
  EXPECT_EQ(error_of_read(), "cannot read " + root_ + "/net/tcp: No such file or directory");
}

TEST_F(ProcNetTree, GarbageRowIsAnErrorNamingTheLine) {
  copy("tcp");
  copy("udp");
  std::ofstream(root_ + "/net/tcp", std::ios::app) << "  99: not a socket row\n";
  EXPECT_EQ(error_of_read(),
            "cannot parse line 13 of " + root_ + "/net/tcp: \"  99: not a socket row\"");
}

}  // namespace
}  // namespace ephport
