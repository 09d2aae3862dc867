// `--netns all`: ephport, run from the host's namespace, samples every
// namespace. Two named namespaces with their own ranges and populations,
// each held by a forked child living in it, must appear with their own
// figures and labelled with their names; namespaces that come and go while
// ephport samples are no error; without CAP_SYS_ADMIN it says so.

#include <fmt/format.h>
#include <sched.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <iterator>
#include <sstream>

#include "lab_support.h"
#include "netns_holder.h"

namespace ephport::lab {
namespace {

struct Population {
  uint16_t first;
  uint16_t last;
  uint16_t port;  // the listener's, outside the range
  int connections;
};

const Population kA{41000, 41029, 9090, 5};
const Population kB{42000, 42049, 9091, 8};

// In the child: the range, a listener on 127.0.0.1:port and `connections`
// connections to it from 127.0.0.1. Ready line: the distinct ports used.
NetnsHolder::Setup build(const Population& population) {
  return [population](Lab& lab) {
    lab.set_range(population.first, population.last);
    lab.listen("127.0.0.1", population.port);
    const auto clients =
        lab.connect("127.0.0.1", "127.0.0.1", population.port, population.connections);
    return std::to_string(distinct_ports(clients));
  };
}

uint64_t inode_of(const std::string& path) {
  struct stat status {};
  if (::stat(path.c_str(), &status) != 0) {
    throw std::runtime_error("cannot stat " + path);
  }
  return status.st_ino;
}

// The snapshot object of the namespace labelled `name`; throws if absent.
Json namespace_named(const Json& wrapper, const std::string& name) {
  for (const Json& snapshot : wrapper.at("namespaces")) {
    if (snapshot.at("netns").at("name") == name) {
      return snapshot;
    }
  }
  throw std::runtime_error("namespace " + name +
                           " is not in the output: " + wrapper.dump().substr(0, 2000));
}

class NetnsAllTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_EQ(::geteuid(), 0u) << "lab tests need root (ip netns add, setns); run them as root";
  }
};

TEST_F(NetnsAllTest, EveryNamespaceWithItsOwnRangeAndFigures) {
  const std::string suffix = std::to_string(::getpid());
  NamedNetns a("ephport-all-a-" + suffix);
  NamedNetns b("ephport-all-b-" + suffix);
  NetnsHolder holder_a(a.path(), build(kA));
  NetnsHolder holder_b(b.path(), build(kB));
  ASSERT_EQ(std::stoi(holder_a.wait_ready()), kA.connections);
  ASSERT_EQ(std::stoi(holder_b.wait_ready()), kB.connections);

  const RunResult run =
      run_ephport({"snapshot", "--netns", "all", "--format", "json", "--top", "1000"});
  ASSERT_EQ(run.exit_code, 0) << run.err;
  const Json wrapper = Json::parse(run.out);
  EXPECT_EQ(wrapper.at("schema"), "ephport.snapshots/1");
  EXPECT_TRUE(wrapper.at("computer").is_string());
  EXPECT_TRUE(wrapper.at("time").is_string());
  ASSERT_GE(wrapper.at("namespaces").size(), 3u) << "a, b and the test's own";

  // The test's own namespace is there too, sampled in place.
  const uint64_t own = inode_of("/proc/self/ns/net");
  bool own_seen = false;
  for (const Json& snapshot : wrapper.at("namespaces")) {
    EXPECT_EQ(snapshot.at("schema"), "ephport.snapshot/1");
    own_seen = own_seen || snapshot.at("netns").at("inode") == own;
  }
  EXPECT_TRUE(own_seen) << own;

  struct Case {
    const NamedNetns& netns;
    const NetnsHolder& holder;
    const Population& population;
  };
  for (const Case& each : {Case{a, holder_a, kA}, Case{b, holder_b, kB}}) {
    SCOPED_TRACE(each.netns.name());
    const Json snapshot = namespace_named(wrapper, each.netns.name());
    const Json& netns = snapshot.at("netns");
    EXPECT_EQ(netns.at("inode"), inode_of(each.netns.path()));
    EXPECT_EQ(netns.at("path"), each.netns.path());
    EXPECT_EQ(netns.at("pid"), each.holder.pid());  // the only process in it
    EXPECT_EQ(snapshot.at("host").at("netns"), each.netns.name());

    const int capacity = each.population.last - each.population.first + 1;
    for (const char* proto : {"tcp", "udp"}) {
      const Json& figures = snapshot.at("protocols").at(proto);
      EXPECT_EQ(figures.at("range").at("first"), each.population.first) << proto;
      EXPECT_EQ(figures.at("range").at("last"), each.population.last) << proto;
      EXPECT_EQ(figures.at("capacity"), capacity) << proto;
    }
    const Json& tcp = snapshot.at("protocols").at("tcp");
    // The listener, its clients and their accepted children.
    EXPECT_EQ(tcp.at("sockets"), 1 + 2 * each.population.connections);
    EXPECT_EQ(tcp.at("destination_count"), 1) << tcp.at("destinations").dump();
    const auto row =
        find_destination(snapshot, "tcp", "127.0.0.1", "127.0.0.1", each.population.port);
    ASSERT_TRUE(row) << tcp.at("destinations").dump();
    EXPECT_EQ(row->at("in_use"), each.population.connections);
    const auto address = find_address(snapshot, "tcp", "127.0.0.1");
    ASSERT_TRUE(address) << tcp.at("addresses").dump();
    EXPECT_EQ(address->at("ports_in_use"), each.population.connections);
    EXPECT_EQ(address->at("listening_ports"), 1);
  }

  // CSV: one header with Netns after the seed's columns, rows labelled.
  const RunResult csv = run_ephport({"snapshot", "--netns", "all", "--format", "csv"});
  ASSERT_EQ(csv.exit_code, 0) << csv.err;
  const std::vector<std::string> lines = split_lines(csv.out);
  ASSERT_FALSE(lines.empty());
  EXPECT_EQ(lines[0].rfind("Computer,DateTime,LocalAddress,#OfEPortsInUse,Max#OfEPorts,"
                           "%EPortUsage,#OfTcpListeningPorts,#OfPids,Netns,Proto,",
                           0),
            0u)
      << lines[0];
  for (const Case& each : {Case{a, holder_a, kA}, Case{b, holder_b, kB}}) {
    const int capacity = each.population.last - each.population.first + 1;
    // 127.0.0.1, connections in use of capacity, then #OfTcpListeningPorts,
    // #OfPids, Netns, Proto.
    const std::string cells =
        fmt::format(",127.0.0.1,{},{},", each.population.connections, capacity);
    const std::string label = "," + each.netns.name() + ",tcp,";
    size_t found = 0;
    for (const std::string& line : lines) {
      found += line.find(cells) != std::string::npos && line.find(label) != std::string::npos;
    }
    EXPECT_EQ(found, 1u) << each.netns.name() << "\n" << csv.out;
  }

  // Table: one summary block per namespace, titled with its name.
  const RunResult table = run_ephport({"snapshot", "--netns", "all"});
  ASSERT_EQ(table.exit_code, 0) << table.err;
  for (const Case& each : {Case{a, holder_a, kA}, Case{b, holder_b, kB}}) {
    EXPECT_NE(
        table.out.find(fmt::format("Network namespace {} (inode {}, pid {}):\n", each.netns.name(),
                                   inode_of(each.netns.path()), each.holder.pid())),
        std::string::npos)
        << table.out;
    EXPECT_NE(
        table.out.find(fmt::format("tcp   {}-{}", each.population.first, each.population.last)),
        std::string::npos)
        << table.out;
  }
}

// Issue #11: `+` on #OfPids (a lower bound) was put in every namespace as
// soon as one process of the host could not be read. Run as nobody with
// CAP_SYS_ADMIN (to enter namespaces, not to read others' fds): namespace
// "open" is held by a process that became nobody (readable), "closed" by
// root's (unreadable). Only "closed" may be marked.
TEST_F(NetnsAllTest, PidsMarkedOnlyWhereAnOwnerIsUnreadable) {
  const std::string suffix = std::to_string(::getpid());
  NamedNetns open("ephport-all-open-" + suffix);
  NamedNetns closed("ephport-all-closed-" + suffix);
  NetnsHolder holder_open(open.path(), [](Lab& lab) {
    std::string ready = build(kA)(lab);
    if (::setgid(65534) != 0 || ::setuid(65534) != 0) {
      throw std::runtime_error("cannot become nobody");
    }
    ::prctl(PR_SET_DUMPABLE, 1);  // setuid made /proc/PID root's; give it back
    return ready;
  });
  NetnsHolder holder_closed(closed.path(), build(kB));
  ASSERT_EQ(std::stoi(holder_open.wait_ready()), kA.connections);
  ASSERT_EQ(std::stoi(holder_closed.wait_ready()), kB.connections);

  TempDir dir;
  const auto run_as_nobody = [&](const std::string& arguments) {
    const std::string command = fmt::format(
        "setpriv --reuid=65534 --regid=65534 --clear-groups --inh-caps=+sys_admin "
        "--ambient-caps=+sys_admin {} snapshot --netns all --owner-source procfs {} >{} 2>{}",
        EPHPORT_BINARY, arguments, dir.file("out"), dir.file("err"));
    const int status = std::system(command.c_str());
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0)
        << status << read_file(dir.file("err"));
    return read_file(dir.file("out"));
  };
  const Json wrapper = Json::parse(run_as_nobody("--format json"));
  const Json open_snapshot = namespace_named(wrapper, open.name());
  const Json closed_snapshot = namespace_named(wrapper, closed.name());
  EXPECT_GT(open_snapshot.at("owners").at("processes_unreadable").get<int>(), 0)
      << "root's processes are unreadable to nobody";
  EXPECT_EQ(open_snapshot.at("owners").at("sockets_unattributed"), 0);
  EXPECT_EQ(open_snapshot.at("owners").at("complete"), true) << open_snapshot.at("owners");
  EXPECT_GT(closed_snapshot.at("owners").at("sockets_unattributed").get<int>(), 0);
  EXPECT_EQ(closed_snapshot.at("owners").at("complete"), false) << closed_snapshot.at("owners");

  // The table: 127.0.0.1's #OfPids is 1 in "open", a lower bound (0+) in
  // "closed"; the seed's columns are followed by Netns.
  size_t open_rows = 0;
  size_t closed_rows = 0;
  for (const std::string& line : split_lines(run_as_nobody(""))) {
    std::istringstream words(line);
    const std::vector<std::string> cells{std::istream_iterator<std::string>(words),
                                         std::istream_iterator<std::string>()};
    if (cells.size() < 10 || cells[2] != "127.0.0.1" || cells[9] != "tcp") {
      continue;
    }
    // The label is the name, "/unit" after it when the holder has one.
    if (cells[8].rfind(open.name(), 0) == 0) {
      ++open_rows;
      EXPECT_EQ(cells[7], "1") << line;
    } else if (cells[8].rfind(closed.name(), 0) == 0) {
      ++closed_rows;
      EXPECT_EQ(cells[7], "0+") << line;
    }
  }
  EXPECT_EQ(open_rows, 1u);
  EXPECT_EQ(closed_rows, 1u);
}

TEST_F(NetnsAllTest, LogCoversEveryNamespaceInEverySample) {
  const std::string suffix = std::to_string(::getpid());
  NamedNetns a("ephport-all-a-" + suffix);
  NetnsHolder holder(a.path(), build(kA));
  ASSERT_EQ(std::stoi(holder.wait_ready()), kA.connections);
  TempDir dir;
  const RunResult run =
      run_ephport({"log", "--netns", "all", "--count", "2", "--interval", "0.2", "--format",
                   "jsonl", "--no-owners", "--output", dir.file("log.jsonl")});
  ASSERT_EQ(run.exit_code, 0) << run.err;
  const std::vector<std::string> lines = split_lines(read_file(dir.file("log.jsonl")));
  ASSERT_EQ(lines.size(), 2u);
  for (const std::string& line : lines) {
    const Json wrapper = Json::parse(line);
    EXPECT_EQ(wrapper.at("schema"), "ephport.snapshots/1");
    const Json snapshot = namespace_named(wrapper, a.name());
    EXPECT_EQ(snapshot.at("protocols").at("tcp").at("capacity"), 30);
  }
}

// A child that keeps creating short-lived processes, each in a network
// namespace of its own, until destroyed.
class NamespaceChurn {
 public:
  NamespaceChurn() {
    pid_ = ::fork();
    if (pid_ == 0) {
      for (;;) {
        pid_t child = ::fork();
        if (child == 0) {
          if (::unshare(CLONE_NEWNET) == 0) {
            ::usleep(3000);
          }
          ::_exit(0);
        }
        if (child > 0) {
          ::waitpid(child, nullptr, 0);
        }
      }
    }
    if (pid_ < 0) {
      throw std::runtime_error("fork failed");
    }
  }
  ~NamespaceChurn() {
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
  }
  NamespaceChurn(const NamespaceChurn&) = delete;
  NamespaceChurn& operator=(const NamespaceChurn&) = delete;

 private:
  pid_t pid_ = -1;
};

TEST_F(NetnsAllTest, NamespacesThatVanishAreNoError) {
  NamespaceChurn churn;
  uint64_t vanished = 0;
  for (int i = 0; i < 15; ++i) {
    const RunResult run =
        run_ephport({"snapshot", "--netns", "all", "--format", "json", "--no-owners"});
    ASSERT_EQ(run.exit_code, 0) << run.err;
    vanished += Json::parse(run.out).at("namespaces_vanished").get<uint64_t>();
  }
  RecordProperty("namespaces_vanished", std::to_string(vanished));
}

TEST_F(NetnsAllTest, WithoutCapSysAdminItSaysSo) {
  // A named namespace can be listed and opened by anyone; entering it needs
  // CAP_SYS_ADMIN. Run ephport as nobody.
  NamedNetns a("ephport-all-a-" + std::to_string(::getpid()));
  TempDir dir;
  const std::string command = fmt::format(
      "setpriv --reuid=65534 --regid=65534 --clear-groups {} snapshot --netns all --no-owners "
      "--bind-state estimate >{} 2>{}",
      EPHPORT_BINARY, dir.file("out"), dir.file("err"));
  const int status = std::system(command.c_str());
  ASSERT_TRUE(WIFEXITED(status)) << status;
  EXPECT_EQ(WEXITSTATUS(status), 1);
  const std::string err = read_file(dir.file("err"));
  EXPECT_NE(err.find("cannot enter network namespace"), std::string::npos) << err;
  EXPECT_NE(err.find("needs CAP_SYS_ADMIN"), std::string::npos) << err;
  EXPECT_EQ(line_count(err), 1u) << err;
  EXPECT_EQ(read_file(dir.file("out")), "");
}

}  // namespace
}  // namespace ephport::lab
