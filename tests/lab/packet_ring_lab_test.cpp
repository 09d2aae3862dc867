// The capture ring on real interfaces: two named namespaces joined by a veth
// pair, a listener in B, a connection storm from A captured on A's end, the
// saved file read by tcpdump. tcpdump is the oracle for the file; the
// connect() calls made are the oracle for what it must contain.

#include <gtest/gtest.h>
#include <pcap/pcap.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <optional>
#include <set>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "collect/linux/netns.h"
#include "evidence/packet_ring.h"
#include "lab_support.h"
#include "netns_holder.h"
#include "util/error.h"

namespace ephport::lab {
namespace {

constexpr uint16_t kPort = 8080;

// Moves the calling thread into `netns` (the home NetnsHome goes back to).
void enter(NetnsHome& home, const NamedNetns& netns) {
  UniqueFd fd = open_netns_if_present(netns.path(), 0);
  if (!fd.valid()) {
    throw std::runtime_error("namespace " + netns.path() + " vanished");
  }
  home.enter(fd.get(), netns.name(), netns.path());
}

// Waits (at most 10 s) until the ring has taken `at_least` packets, then a
// little more so the thread's next kernel drop count is in.
PacketRingStats wait_for_captured(const PacketRing& ring, uint64_t at_least) {
  for (int i = 0; i < 200; ++i) {
    if (ring.stats().captured >= at_least) {
      std::this_thread::sleep_for(std::chrono::milliseconds(300));
      return ring.stats();
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  const PacketRingStats stats = ring.stats();
  throw std::runtime_error("the ring took " + std::to_string(stats.captured) + " packets, not " +
                           std::to_string(at_least) + " (kernel dropped " +
                           std::to_string(stats.kernel_dropped) + "; error '" + stats.error + "')");
}

// Waits (at most 5 s) for the ring's thread to report an error.
std::string wait_for_error(const PacketRing& ring) {
  for (int i = 0; i < 100; ++i) {
    std::string error = ring.stats().error;
    if (!error.empty()) {
      return error;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  throw std::runtime_error("the ring reported no error within 5 s");
}

struct TcpdumpRun {
  std::vector<std::string> lines;
  std::string err;
};

// `tcpdump -nn -tt -r FILE [FILTER]`; throws unless it exits 0.
TcpdumpRun tcpdump_read(const TempDir& dir, const std::string& file,
                        const std::string& filter = "") {
  const std::string out = dir.file("tcpdump.out");
  const std::string err = dir.file("tcpdump.err");
  const std::string command =
      "tcpdump -nn -tt -r '" + file + "' '" + filter + "' > '" + out + "' 2> '" + err + "'";
  const int status = std::system(command.c_str());
  TcpdumpRun run{split_lines(read_file(out)), read_file(err)};
  if (status == -1 || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    throw std::runtime_error("tcpdump failed (" + std::to_string(status) + "): " + run.err);
  }
  return run;
}

// One line of `tcpdump -nn -tt` for TCP:
// "1700000000.123456 IP 10.231.0.1.41234 > 10.231.0.2.8080: Flags [S], seq ..."
// (IP6 for IPv6; "eph-a Out IP ..." with an interface column on LINUX_SLL2).
struct TcpLine {
  double time = 0;
  bool ipv6 = false;
  uint16_t source_port = 0;
  uint16_t dest_port = 0;
  std::string flags;  // "S", "S.", "F.", "R", ...
  bool pure_syn() const { return flags == "S"; }
};

uint16_t port_of(const std::string& endpoint) {
  const size_t dot = endpoint.rfind('.');
  if (dot == std::string::npos) {
    throw std::runtime_error("no port in '" + endpoint + "'");
  }
  return static_cast<uint16_t>(std::stoi(endpoint.substr(dot + 1)));
}

TcpLine parse_tcp_line(const std::string& line) {
  std::istringstream words(line);
  TcpLine parsed;
  std::string word;
  words >> parsed.time;
  std::vector<std::string> rest;
  while (words >> word) {
    rest.push_back(word);
  }
  for (size_t i = 0; i + 5 < rest.size(); ++i) {
    if ((rest[i] == "IP" || rest[i] == "IP6") && rest[i + 2] == ">" && rest[i + 4] == "Flags") {
      parsed.ipv6 = rest[i] == "IP6";
      parsed.source_port = port_of(rest[i + 1]);
      parsed.dest_port = port_of(rest[i + 3].substr(0, rest[i + 3].size() - 1));  // "...:"
      const std::string& flags = rest[i + 5];                                     // "[S],"
      parsed.flags = flags.substr(1, flags.find(']') - 1);
      return parsed;
    }
  }
  throw std::runtime_error("not a TCP line of tcpdump: '" + line + "'");
}

std::vector<TcpLine> parse_tcp_lines(const TcpdumpRun& run) {
  std::vector<TcpLine> parsed;
  for (const std::string& line : run.lines) {
    parsed.push_back(parse_tcp_line(line));
  }
  return parsed;
}

std::set<uint16_t> pure_syn_ports(const std::vector<TcpLine>& lines, bool ipv6) {
  std::set<uint16_t> ports;
  for (const TcpLine& line : lines) {
    if (line.pure_syn() && line.ipv6 == ipv6) {
      ports.insert(line.source_port);
    }
  }
  return ports;
}

class PacketRingLab : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_EQ(::geteuid(), 0u) << "the capture ring lab tests need root (namespaces, "
                                  "AF_PACKET); run them as root";
  }
};

TEST_F(PacketRingLab, StormIsSavedWithEverySynForTcpdump) {
  constexpr int kV4 = 300;
  constexpr int kV6 = 60;
  constexpr int kV6Aborted = 20;
  VethPair veth("ring");
  NetnsHome home;
  Lab lab(false);  // its sockets stay in the namespace they were made in
  enter(home, veth.b());
  lab.listen(VethPair::kServerV4, kPort);
  lab.listen_v6only(VethPair::kServerV6, kPort);
  enter(home, veth.a());
  PacketRing ring(VethPair::kClientDevice, 8 << 20);
  EXPECT_EQ(ring.linktype(), DLT_EN10MB);

  const auto start = std::chrono::steady_clock::now();
  // v4: SYN, SYN-ACK, FIN from each side. v6: SYN, SYN-ACK, and RSTs for some.
  const std::vector<uint16_t> v4 = lab.time_wait("", VethPair::kServerV4, kPort, kV4);
  const std::vector<uint16_t> v6 = lab.connect("", VethPair::kServerV6, kPort, kV6);
  const double storm_seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  lab.abort_connections(kPort, std::vector<uint16_t>(v6.begin(), v6.begin() + kV6Aborted));
  const uint64_t at_least = 4 * kV4 + 2 * kV6 + kV6Aborted;
  const PacketRingStats stats = wait_for_captured(ring, at_least);
  EXPECT_EQ(stats.kernel_dropped, 0u);
  EXPECT_EQ(stats.evicted, 0u);
  EXPECT_EQ(stats.held_packets, stats.captured);
  EXPECT_EQ(stats.error, "");

  TempDir dir;
  const std::string file = dir.file("storm.pcap");
  ring.save(file);
  EXPECT_EQ(std::filesystem::file_size(file), 24 + ring.stats().held_bytes);

  // The filter the brief names, applied by tcpdump to the file: IPv4 only.
  const TcpdumpRun v4_syns =
      tcpdump_read(dir, file, "tcp[tcpflags] & (tcp-syn|tcp-ack) == tcp-syn");
  EXPECT_NE(v4_syns.err.find("reading from file"), std::string::npos) << v4_syns.err;
  EXPECT_EQ(v4_syns.lines.size(), static_cast<size_t>(kV4));

  const TcpdumpRun all = tcpdump_read(dir, file);
  EXPECT_EQ(all.lines.size(), stats.held_packets);
  const std::vector<TcpLine> lines = parse_tcp_lines(all);
  EXPECT_EQ(pure_syn_ports(lines, false), std::set<uint16_t>(v4.begin(), v4.end()));
  EXPECT_EQ(pure_syn_ports(lines, true), std::set<uint16_t>(v6.begin(), v6.end()));
  size_t v6_syns = 0;
  for (const TcpLine& line : lines) {
    v6_syns += line.ipv6 && line.pure_syn() ? 1 : 0;
  }
  EXPECT_EQ(v6_syns, static_cast<size_t>(kV6));  // one each: none lost, none retransmitted
  size_t fins = 0;
  size_t resets = 0;
  for (const TcpLine& line : lines) {
    // Nothing without SYN, FIN or RST: no bare ACKs of the handshakes.
    EXPECT_NE(line.flags.find_first_of("SFR"), std::string::npos) << "flags " << line.flags;
    fins += line.flags.find('F') != std::string::npos ? 1 : 0;
    resets += line.flags.find('R') != std::string::npos && line.ipv6 ? 1 : 0;
  }
  EXPECT_EQ(fins, 2u * kV4);
  EXPECT_GE(resets, static_cast<size_t>(kV6Aborted));
  lab_note("storm of " + std::to_string(kV4 + kV6) +
           " connections: " + std::to_string(stats.captured) + " packets in " +
           std::to_string(storm_seconds) + " s (~" +
           std::to_string(static_cast<int>(stats.captured / storm_seconds)) + " packets/s), " +
           std::to_string(stats.kernel_dropped) + " dropped by the kernel, file " +
           std::to_string(std::filesystem::file_size(file)) + " bytes");
}

TEST_F(PacketRingLab, SmallBoundKeepsTheNewestPackets) {
  constexpr size_t kBound = size_t{64} * 1024;
  constexpr int kConnections = 2000;
  VethPair veth("ring");
  NetnsHome home;
  Lab lab(false);
  enter(home, veth.b());
  lab.listen(VethPair::kServerV4, kPort);
  enter(home, veth.a());
  PacketRing ring(VethPair::kClientDevice, kBound);

  const auto start = std::chrono::steady_clock::now();
  const std::vector<uint16_t> ports = lab.time_wait("", VethPair::kServerV4, kPort, kConnections);
  const double storm_seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  // TIME_WAIT keeps every port taken: first and last are told apart by port.
  ASSERT_EQ(std::set<uint16_t>(ports.begin(), ports.end()).size(), ports.size());
  const PacketRingStats stats = wait_for_captured(ring, uint64_t{4} * kConnections);
  EXPECT_EQ(stats.kernel_dropped, 0u);
  EXPECT_LE(stats.held_bytes, kBound);
  EXPECT_GT(stats.evicted, 0u);
  EXPECT_EQ(stats.evicted + stats.held_packets, stats.captured);

  TempDir dir;
  const std::string file = dir.file("small.pcap");
  ring.save(file);
  const uintmax_t size = std::filesystem::file_size(file);
  EXPECT_LE(size, kBound + 24);
  EXPECT_EQ(size, 24 + ring.stats().held_bytes);

  const TcpdumpRun all = tcpdump_read(dir, file);
  EXPECT_EQ(all.lines.size(), ring.stats().held_packets);
  const std::vector<TcpLine> lines = parse_tcp_lines(all);
  const std::set<uint16_t> syns = pure_syn_ports(lines, false);
  EXPECT_TRUE(syns.contains(ports.back()))
      << "last connection's SYN (port " << ports.back() << ") missing";
  for (const TcpLine& line : lines) {
    EXPECT_NE(line.source_port, ports.front()) << "first connection still held";
    EXPECT_NE(line.dest_port, ports.front()) << "first connection still held";
  }
  for (size_t i = 1; i < lines.size(); ++i) {
    EXPECT_LE(lines[i - 1].time, lines[i].time) << "out of order at packet " << i;
  }
  lab_note(std::to_string(stats.captured) + " packets (" + std::to_string(kConnections) +
           " connections) in a " + std::to_string(storm_seconds) + " s storm, ~" +
           std::to_string(static_cast<int>(stats.captured / storm_seconds)) + " packets/s; bound " +
           std::to_string(kBound) + ": held " + std::to_string(stats.held_packets) +
           " packets, evicted " + std::to_string(stats.evicted) + ", kernel dropped " +
           std::to_string(stats.kernel_dropped) + ", file " + std::to_string(size) + " bytes");
}

// Down and up again is not an error: the kernel hooks the socket back on.
TEST_F(PacketRingLab, KeepsCapturingAcrossALinkFlap) {
  VethPair veth("ring");
  NetnsHome home;
  Lab lab(false);
  enter(home, veth.b());
  lab.listen(VethPair::kServerV4, kPort);
  enter(home, veth.a());
  PacketRing ring(VethPair::kClientDevice, 1 << 20);
  std::vector<uint16_t> ports = lab.time_wait("", VethPair::kServerV4, kPort, 5);
  wait_for_captured(ring, 4 * ports.size());
  run_command("ip -n " + veth.a().name() + " link set eph-a down");
  run_command("ip -n " + veth.a().name() + " link set eph-a up");
  veth.fix_neighbours();
  const std::vector<uint16_t> after = lab.time_wait("", VethPair::kServerV4, kPort, 5);
  ports.insert(ports.end(), after.begin(), after.end());
  const PacketRingStats stats = wait_for_captured(ring, 4 * ports.size());
  EXPECT_EQ(stats.error, "");

  TempDir dir;
  const std::string file = dir.file("flap.pcap");
  ring.save(file);
  EXPECT_EQ(pure_syn_ports(parse_tcp_lines(tcpdump_read(dir, file)), false),
            std::set<uint16_t>(ports.begin(), ports.end()));
}

// A deleted interface ends the capture; what was held is still saved.
TEST_F(PacketRingLab, AVanishedInterfaceStopsTheCaptureButKeepsWhatItHeld) {
  VethPair veth("ring");
  NetnsHome home;
  Lab lab(false);
  enter(home, veth.b());
  lab.listen(VethPair::kServerV4, kPort);
  enter(home, veth.a());
  PacketRing ring(VethPair::kClientDevice, 1 << 20);
  const std::vector<uint16_t> ports = lab.time_wait("", VethPair::kServerV4, kPort, 5);
  wait_for_captured(ring, 4 * ports.size());
  run_command("ip -n " + veth.a().name() + " link delete eph-a");
  const std::string error = wait_for_error(ring);
  EXPECT_NE(error.find("'eph-a'"), std::string::npos) << error;
  lab_note("after deleting the interface: " + error);

  TempDir dir;
  const std::string file = dir.file("vanished.pcap");
  ring.save(file);
  EXPECT_EQ(pure_syn_ports(parse_tcp_lines(tcpdump_read(dir, file)), false),
            std::set<uint16_t>(ports.begin(), ports.end()));
}

TEST_F(PacketRingLab, UnknownInterfaceIsAnInputErrorNamingIt) {
  NetnsGuard netns;  // a namespace with lo only: the name cannot exist
  const std::string name = "ephport-none0";
  try {
    PacketRing ring(name, 1 << 20);
    FAIL() << "no error for interface " << name;
  } catch (const InputError& error) {
    EXPECT_NE(std::string(error.what()).find("'" + name + "'"), std::string::npos) << error.what();
  }
}

TEST_F(PacketRingLab, AnyInterfaceRecordsWhichInterfaceEachPacketCrossed) {
  NetnsGuard netns;
  Lab lab(false);
  lab.listen("127.0.0.1", kPort);
  PacketRing ring("any", 1 << 20);
  EXPECT_EQ(ring.linktype(), DLT_LINUX_SLL2);
  const std::vector<uint16_t> ports = lab.time_wait("", "127.0.0.1", kPort, 10);
  wait_for_captured(ring, 4 * ports.size());
  TempDir dir;
  const std::string file = dir.file("any.pcap");
  ring.save(file);
  const TcpdumpRun all = tcpdump_read(dir, file);
  const std::vector<TcpLine> lines = parse_tcp_lines(all);
  EXPECT_EQ(pure_syn_ports(lines, false), std::set<uint16_t>(ports.begin(), ports.end()));
  for (const std::string& line : all.lines) {
    EXPECT_NE(line.find(" lo "), std::string::npos) << line;  // SLL2's interface column
  }
}

// A quiet link: nothing wakes the thread but the stop request. Also stops a
// ring whose thread may not have reached poll() yet.
TEST_F(PacketRingLab, StopsPromptlyOnAQuietLink) {
  NetnsGuard netns;
  for (int i = 0; i < 20; ++i) {
    const auto start = std::chrono::steady_clock::now();
    { PacketRing ring("lo", 1 << 20); }
    EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::milliseconds(1000));
  }
  auto ring = std::make_unique<PacketRing>("lo", 1 << 20);
  std::this_thread::sleep_for(std::chrono::milliseconds(700));  // well into a poll()
  const auto start = std::chrono::steady_clock::now();
  ring.reset();
  const auto took = std::chrono::steady_clock::now() - start;
  // Mostly pcap_close(): releasing a packet socket waits for an RCU grace
  // period (~25 ms here). The thread itself is woken by the eventfd at once.
  EXPECT_LT(took, std::chrono::milliseconds(500));
  lab_note("stopped a quiet ring in " +
           std::to_string(std::chrono::duration<double, std::micro>(took).count()) + " us");
}

}  // namespace
}  // namespace ephport::lab
