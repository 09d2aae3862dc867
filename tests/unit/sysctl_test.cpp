// Sysctl parsers and read_host_facts() on tests/fixtures/proc/sys.

#include "collect/linux/sysctl.h"

#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <string>

#include "collect_fixtures.h"
#include "util/error.h"

namespace ephport {
namespace {

namespace fs = std::filesystem;

// The parsers return Result: the value, or the message naming what is wrong.
std::string error_of_port_list(std::string_view text) {
  Result<std::vector<PortRange>> parsed = parse_port_list(text);
  return parsed.ok() ? "(parsed)" : parsed.error().message;
}

std::string error_of_port_range(std::string_view text) {
  Result<PortRange> parsed = parse_port_range(text);
  return parsed.ok() ? "(parsed)" : parsed.error().message;
}

TEST(Sysctl, ParsesThePortRange) {
  EXPECT_EQ(parse_port_range("32768\t60999\n").value(), (PortRange{32768, 60999}));
  EXPECT_EQ(parse_port_range("40000 40000").value(), (PortRange{40000, 40000}));
}

TEST(Sysctl, RejectsBadPortRanges) {
  EXPECT_EQ(error_of_port_range("60999\t32768\n"), "range 60999-32768 ends before it starts");
  EXPECT_EQ(error_of_port_range("32768\n"), "'32768' is not two port numbers");
  EXPECT_EQ(error_of_port_range(""), "'' is not two port numbers");
  EXPECT_EQ(error_of_port_range("0\t100"), "port number 0 is out of range 1-65535");
  EXPECT_EQ(error_of_port_range("1\t70000"), "port number 70000 is out of range 1-65535");
  EXPECT_EQ(error_of_port_range("1\t2\t3"), "'2\t3' is not a port number");
}

TEST(Sysctl, ParsesPortLists) {
  EXPECT_TRUE(parse_port_list("").value().empty());
  EXPECT_TRUE(parse_port_list("\n").value().empty());
  EXPECT_EQ(parse_port_list("8080\n").value(), (std::vector<PortRange>{{8080, 8080}}));
  EXPECT_EQ(parse_port_list("1,2-5,8080").value(),
            (std::vector<PortRange>{{1, 1}, {2, 5}, {8080, 8080}}));
  EXPECT_EQ(parse_port_list("0,65535").value(), (std::vector<PortRange>{{0, 0}, {65535, 65535}}));
}

TEST(Sysctl, RejectsBadPortLists) {
  EXPECT_EQ(error_of_port_list("5-3"), "range 5-3 ends before it starts");
  EXPECT_EQ(error_of_port_list("abc"), "'abc' is not a port number");
  EXPECT_EQ(error_of_port_list("70000"), "port number 70000 is out of range 0-65535");
  EXPECT_EQ(error_of_port_list("99999999999999999999"),
            "port number 99999999999999999999 is out of range 0-65535");
  EXPECT_EQ(error_of_port_list("1,,2"), "empty element in port list");
  EXPECT_EQ(error_of_port_list("1,"), "empty element in port list");
  EXPECT_EQ(error_of_port_list("1-"), "'' is not a port number");
  EXPECT_EQ(error_of_port_list("-5"), "'' is not a port number");
  EXPECT_EQ(error_of_port_list("1-2-3"), "'2-3' is not a port number");
  EXPECT_EQ(error_of_port_list("8080x"), "'8080x' is not a port number");
}

TEST(Sysctl, ParsesIntegers) {
  EXPECT_EQ(parse_sysctl_int("2\n").value(), 2);
  EXPECT_EQ(parse_sysctl_int("-1").value(), -1);
  EXPECT_FALSE(parse_sysctl_int("").ok());
  EXPECT_FALSE(parse_sysctl_int("1 2").ok());
  EXPECT_FALSE(parse_sysctl_int("3000000000").ok());
}

TEST(Sysctl, ReadsTheFixtureHost) {
  const auto before = std::chrono::system_clock::now();
  HostFacts facts = read_host_facts(testing::fixture_path("proc"));
  EXPECT_EQ(facts.computer, "ephport-fixture");
  EXPECT_GE(facts.time, before);
  EXPECT_EQ(facts.range(Protocol::tcp), (PortRange{40000, 40099}));
  EXPECT_EQ(facts.reserved_ports(Protocol::tcp),
            (std::vector<PortRange>{{40010, 40012}, {40050, 40050}}));
  EXPECT_EQ(facts.linux_sysctls.tcp_tw_reuse, 1);
  EXPECT_EQ(facts.linux_sysctls.tcp_tw_reuse_delay_ms, 2000);
  EXPECT_EQ(facts.linux_sysctls.tcp_timestamps, 1);
  EXPECT_EQ(facts.linux_sysctls.ip_autobind_reuse, 1);
  EXPECT_EQ(facts.linux_sysctls.tcp_fin_timeout, 30);
  EXPECT_EQ(facts.linux_sysctls.bindv6only, 0);
}

// A copy of the fixture's sys tree, to take files away or spoil them.
class SysctlTree : public ::testing::Test {
 protected:
  void SetUp() override {
    fs::copy(testing::fixture_path("proc/sys"), root_ + "/sys", fs::copy_options::recursive);
  }
  std::string file(const std::string& name) const { return root_ + "/sys/" + name; }
  std::string error_of_read() const {
    return testing::error_text<RuntimeError>([&] { read_host_facts(root_); });
  }
  testing::ScratchDir scratch_;
  const std::string root_ = scratch_.path();
};

TEST_F(SysctlTree, OptionalFilesMayBeMissing) {
  fs::remove(file("net/ipv4/tcp_tw_reuse_delay"));  // before Linux 6.14
  fs::remove(file("net/ipv4/ip_autobind_reuse"));   // before Linux 5.4
  fs::remove_all(file("net/ipv6"));                 // IPv6 disabled
  fs::remove_all(file("kernel"));                   // hostname from uname()
  HostFacts facts = read_host_facts(root_);
  EXPECT_FALSE(facts.linux_sysctls.tcp_tw_reuse_delay_ms);
  EXPECT_EQ(facts.linux_sysctls.ip_autobind_reuse, 0);
  EXPECT_EQ(facts.linux_sysctls.bindv6only, 0);
  EXPECT_FALSE(facts.computer.empty());
  EXPECT_EQ(facts.range(Protocol::tcp), (PortRange{40000, 40099}));
}

TEST_F(SysctlTree, MissingRequiredFileNamesIt) {
  fs::remove(file("net/ipv4/ip_local_port_range"));
  EXPECT_EQ(error_of_read(),
            "cannot read " + file("net/ipv4/ip_local_port_range") + ": No such file or directory");
}

TEST_F(SysctlTree, UnreadableFileNamesIt) {
  fs::remove(file("net/ipv4/tcp_tw_reuse"));
  fs::create_directory(file("net/ipv4/tcp_tw_reuse"));  // read() gives EISDIR even to root
  EXPECT_EQ(error_of_read(), "cannot read " + file("net/ipv4/tcp_tw_reuse") + ": Is a directory");
}

TEST_F(SysctlTree, GarbageNamesTheFileAndTheProblem) {
  std::ofstream(file("net/ipv4/ip_local_reserved_ports")) << "5-3\n";
  EXPECT_EQ(error_of_read(), "unexpected content in " + file("net/ipv4/ip_local_reserved_ports") +
                                 ": range 5-3 ends before it starts");
  std::ofstream(file("net/ipv4/ip_local_reserved_ports")) << "\n";
  std::ofstream(file("net/ipv4/tcp_tw_reuse_delay")) << "soon\n";
  EXPECT_EQ(error_of_read(), "unexpected content in " + file("net/ipv4/tcp_tw_reuse_delay") +
                                 ": 'soon' is not a number");
}

}  // namespace
}  // namespace ephport
