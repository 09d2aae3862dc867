// `--netns NAME|PATH`: ephport reads another namespace's sockets and sysctls
// from outside it. A named namespace (ip netns add) gets its own range and
// population, held by a forked child living in it; ephport runs from the
// test's namespace, which has a different range and population.

#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>

#include "lab_support.h"

namespace ephport::lab {
namespace {

// `ip netns add NAME`, deleted on destruction whatever happened.
class NamedNetns {
 public:
  explicit NamedNetns(std::string name) : name_(std::move(name)) {
    if (std::system(("ip netns add " + name_).c_str()) != 0) {
      throw std::runtime_error("ip netns add " + name_ + " failed");
    }
  }
  ~NamedNetns() { std::system(("ip netns delete " + name_ + " 2>/dev/null").c_str()); }
  NamedNetns(const NamedNetns&) = delete;
  NamedNetns& operator=(const NamedNetns&) = delete;
  const std::string& name() const { return name_; }
  std::string path() const { return "/run/netns/" + name_; }

 private:
  std::string name_;
};

// A child process inside the named namespace that builds the population and
// holds it. It answers one-letter commands on a pipe: 'c' counts connect()s
// to 127.0.0.1:9090, 'b' counts bind(127.0.0.1:0); EOF ends it.
class Holder {
 public:
  explicit Holder(const std::string& netns_path) {
    int to_child[2];
    int from_child[2];
    if (::pipe2(to_child, O_CLOEXEC) != 0 || ::pipe2(from_child, O_CLOEXEC) != 0) {
      throw std::runtime_error("pipe2 failed");
    }
    pid_ = ::fork();
    if (pid_ < 0) {
      throw std::runtime_error("fork failed");
    }
    if (pid_ == 0) {
      ::close(to_child[1]);
      ::close(from_child[0]);
      ::_exit(child_main(netns_path, to_child[0], from_child[1]));
    }
    ::close(to_child[0]);
    ::close(from_child[1]);
    commands_ = UniqueFd(to_child[1]);
    answers_ = UniqueFd(from_child[0]);
  }

  ~Holder() {
    commands_.reset();  // EOF: the child closes its sockets and exits
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

  // The child's reply line ("ok <ports used>" after set-up, a count after a command).
  std::string read_line() {
    std::string line;
    for (int i = 0; i < 4096; ++i) {
      pollfd entry{answers_.get(), POLLIN, 0};
      if (::poll(&entry, 1, 10000) <= 0) {
        throw std::runtime_error("the namespace holder did not answer");
      }
      char c = 0;
      if (::read(answers_.get(), &c, 1) != 1) {
        throw std::runtime_error("the namespace holder died: " + line);
      }
      if (c == '\n') {
        return line;
      }
      line += c;
    }
    throw std::runtime_error("the namespace holder's line is too long");
  }

  int ask(char command) {
    if (::write(commands_.get(), &command, 1) != 1) {
      throw std::runtime_error("cannot talk to the namespace holder");
    }
    return std::stoi(read_line());
  }

 private:
  static void say(int fd, const std::string& text) {
    const std::string line = text + "\n";
    (void)!::write(fd, line.data(), line.size());
  }

  static int child_main(const std::string& netns_path, int commands, int answers) {
    try {
      UniqueFd netns(::open(netns_path.c_str(), O_RDONLY | O_CLOEXEC));
      if (!netns.valid() || ::setns(netns.get(), CLONE_NEWNET) != 0) {
        say(answers, "setns " + netns_path + " failed");
        return 1;
      }
      bring_loopback_up();
      Lab lab(false);
      lab.set_range(41000, 41029);
      lab.set_tw_reuse(0);
      lab.listen("127.0.0.1", 9090);
      const auto clients = lab.connect("127.0.0.1", "127.0.0.1", 9090, 7);
      const auto tw = lab.time_wait("127.0.0.1", "127.0.0.1", 9090, 2);
      const uint16_t bound = lab.bound_only(Proto::tcp, "127.0.0.1");
      const std::vector<uint16_t> bound_list = {bound};
      say(answers, "ok " + std::to_string(distinct_ports(clients, tw, bound_list)));
      char command = 0;
      while (::read(commands, &command, 1) == 1) {
        int count = 0;
        if (command == 'c') {
          count = lab.count_connects_until_refused("127.0.0.1", "127.0.0.1", 9090);
        } else if (command == 'b') {
          count = lab.count_binds_until_refused(Proto::tcp, "127.0.0.1");
        }
        lab.release_probes();
        say(answers, std::to_string(count));
      }
      return 0;
    } catch (const std::exception& error) {
      say(answers, std::string("error: ") + error.what());
      return 1;
    }
  }

  pid_t pid_ = -1;
  UniqueFd commands_;
  UniqueFd answers_;
};

class NetnsOptionTest : public LabTest {};

TEST_F(NetnsOptionTest, ReadsTheNamedNamespace) {
  // The test's own namespace: a different range and population.
  lab().set_range(40000, 40099);
  lab().listen("127.0.0.1", 8080);
  lab().connect("127.0.0.1", "127.0.0.1", 8080, 4);

  NamedNetns netns("ephport-test-" + std::to_string(::getpid()));
  Holder holder(netns.path());
  const std::string ready = holder.read_line();
  ASSERT_EQ(ready.rfind("ok ", 0), 0u) << ready;
  const int used = std::stoi(ready.substr(3));

  for (const std::string& selector : {netns.name(), netns.path()}) {
    SCOPED_TRACE("--netns " + selector);
    const Json snap = snapshot_json({"--netns", selector});
    const Json& tcp = snap.at("protocols").at("tcp");
    EXPECT_EQ(tcp.at("range").at("first"), 41000);
    EXPECT_EQ(tcp.at("range").at("last"), 41029);
    EXPECT_EQ(tcp.at("capacity"), 30);
    EXPECT_EQ(snap.at("protocols").at("udp").at("capacity"), 30);
    // listener, 7 clients, 7 children, 2 TIME_WAIT, 1 bound-only
    EXPECT_EQ(tcp.at("sockets"), 18);
    EXPECT_EQ(tcp.at("destination_count"), 1) << tcp.at("destinations").dump();
    EXPECT_FALSE(find_destination(snap, "tcp", "127.0.0.1", "127.0.0.1", 8080))
        << "a destination of the caller's namespace";
    const auto row = find_destination(snap, "tcp", "127.0.0.1", "127.0.0.1", 9090);
    ASSERT_TRUE(row) << tcp.at("destinations").dump();
    EXPECT_EQ(row->at("in_use"), 9);
    EXPECT_EQ(row->at("time_wait"), 2);
    // 30 ports, 1 in bind() state (the bound-only socket), 9 held by the group.
    EXPECT_EQ(row->at("connect_free"), 20);
    const auto address = find_address(snap, "tcp", "127.0.0.1");
    ASSERT_TRUE(address) << tcp.at("addresses").dump();
    EXPECT_EQ(address->at("bind_free"), 30 - used);
    EXPECT_EQ(address->at("connect_free_new_destination"), 29);
    EXPECT_EQ(address->at("listening_ports"), 1);

    // The kernel of that namespace agrees.
    EXPECT_EQ(holder.ask('c'), row->at("connect_free").get<int>());
    EXPECT_EQ(holder.ask('b'), address->at("bind_free").get<int>());
  }
}

TEST_F(NetnsOptionTest, MissingNamespaceIsAUsageError) {
  for (const std::string& selector :
       {std::string("/no/such"), "ephport-test-absent-" + std::to_string(::getpid())}) {
    SCOPED_TRACE(selector);
    const RunResult run = run_ephport({"snapshot", "--format", "json", "--netns", selector});
    EXPECT_EQ(run.exit_code, 2) << run.err;
    EXPECT_EQ(line_count(run.err), 1u) << run.err;
    EXPECT_NE(run.err.find(selector), std::string::npos) << run.err;
    EXPECT_EQ(run.out, "");
  }
}

}  // namespace
}  // namespace ephport::lab
