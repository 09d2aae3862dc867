// Who eats the ports, and the evidence left behind: a process that opens
// 1500 connections across a veth pair is named with its exe, cgroup and
// counts by `snapshot --processes`, and `log` writes an evidence bundle with
// its details and a packet capture holding the SYNs of the storm. Bundles
// rotate, and a SIGKILL in the middle of one never leaves a half bundle
// under a timestamp name.

#include <arpa/inet.h>
#include <fcntl.h>
#include <fmt/format.h>
#include <netinet/in.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <csignal>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "lab_support.h"
#include "netns_holder.h"

namespace ephport::lab {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

constexpr int kStorm = 1500;
constexpr uint16_t kServerPort = 8080;
constexpr const char* kEaterName = "port-eater";

std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream content;
  content << in.rdbuf();
  return content.str();
}

// Where cgroup v2 is mounted (/sys/fs/cgroup, or .../unified on hybrid hosts).
std::string cgroup2_root() {
  std::ifstream mounts("/proc/self/mounts");
  std::string device, point, type;
  std::string rest;
  while (mounts >> device >> point >> type && std::getline(mounts, rest)) {
    if (type == "cgroup2") {
      return point;
    }
  }
  throw std::runtime_error("no cgroup2 mount: cannot give the port eater its own cgroup");
}

// A cgroup v2 group made for the test, removed at the end.
class TestCgroup {
 public:
  TestCgroup() : name_("ephport-lab-" + std::to_string(::getpid()) + ".scope") {
    path_ = cgroup2_root() + "/" + name_;
    fs::create_directory(path_);
  }
  ~TestCgroup() {
    // Its processes have exited by now; rmdir fails while one lives.
    for (int i = 0; i < 50 && ::rmdir(path_.c_str()) != 0; ++i) {
      std::this_thread::sleep_for(20ms);
    }
  }
  TestCgroup(const TestCgroup&) = delete;
  TestCgroup& operator=(const TestCgroup&) = delete;
  const std::string& name() const { return name_; }
  void join() const { std::ofstream(path_ + "/cgroup.procs") << ::getpid() << std::flush; }

 private:
  std::string name_;
  std::string path_;
};

// The port eater, living in the client namespace with range 40000-42999:
// named kEaterName, in its own cgroup, root's or (as_nobody) nobody's. 'g' opens kStorm connections
// to the server and answers how many it made; they stay open until the end.
std::unique_ptr<NetnsHolder> start_eater(const VethPair& link, const TestCgroup& cgroup,
                                         bool as_nobody) {
  auto setup = [&cgroup, as_nobody](Lab& lab) {
    lab.set_range(40000, 42999);
    ::prctl(PR_SET_NAME, kEaterName);
    cgroup.join();
    if (as_nobody) {
      if (::setgid(65534) != 0 || ::setuid(65534) != 0) {
        throw std::runtime_error("cannot become nobody");
      }
      ::prctl(PR_SET_DUMPABLE, 1);  // setuid made /proc/PID root's; give it back
    }
    return std::string("ready");
  };
  auto command = [](Lab&, char letter) {
    static std::vector<UniqueFd> held;
    if (letter != 'g') {
      return -1;
    }
    sockaddr_in server{};
    server.sin_family = AF_INET;
    server.sin_port = htons(kServerPort);
    ::inet_pton(AF_INET, VethPair::kServerV4, &server.sin_addr);
    for (int i = 0; i < kStorm; ++i) {
      UniqueFd fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
      if (::connect(fd.get(), reinterpret_cast<sockaddr*>(&server), sizeof server) != 0) {
        break;
      }
      held.push_back(std::move(fd));
    }
    return static_cast<int>(held.size());
  };
  auto eater = std::make_unique<NetnsHolder>(link.a().path(), setup, command);
  eater->wait_ready();
  return eater;
}

// The server: a listener whose backlog holds the whole storm (never accepted).
std::unique_ptr<NetnsHolder> start_server(const VethPair& link) {
  auto server = std::make_unique<NetnsHolder>(link.b().path(), [](Lab& lab) {
    lab.listen(VethPair::kServerV4, kServerPort);
    return std::string("listening");
  });
  server->wait_ready();
  return server;
}

std::string exe_of_this_test() {
  return fs::read_symlink("/proc/self/exe").string();
}

// A veth pair, the server, and (from the first storm) the eater in its cgroup.
class ProcessEvidence : public ::testing::Test {
 protected:
  void SetUp() override { server_ = start_server(link_); }
  // Starts the eater (once) and has it open its connections.
  void storm(bool as_nobody = false) {
    if (!eater_) {
      eater_ = start_eater(link_, cgroup_, as_nobody);
    }
    ASSERT_EQ(eater_->ask('g'), kStorm);
  }
  pid_t eater_pid() const { return eater_->pid(); }
  std::string client_netns() const { return link_.a().name(); }
  const std::string& cgroup_name() const { return cgroup_.name(); }

 private:
  VethPair link_{"evidence"};
  TestCgroup cgroup_;
  std::unique_ptr<NetnsHolder> server_;
  std::unique_ptr<NetnsHolder> eater_;
};

TEST_F(ProcessEvidence, TheEaterIsNamedWithItsExeCgroupAndCounts) {
  storm();

  // JSON, selected by pid.
  RunResult json = run_ephport({"snapshot", "--netns", client_netns(), "--format", "json", "--pid",
                                std::to_string(eater_pid())});
  ASSERT_EQ(json.exit_code, 0) << json.err;
  Json snapshot = Json::parse(json.out);
  ASSERT_EQ(snapshot.at("processes").size(), 1u) << snapshot.at("processes").dump();
  const Json& process = snapshot.at("processes")[0];
  EXPECT_EQ(process.at("pid"), eater_pid());
  EXPECT_EQ(process.at("name"), kEaterName);
  EXPECT_EQ(process.at("exe"), exe_of_this_test());
  EXPECT_EQ(process.at("cgroup"), "/" + cgroup_name());
  EXPECT_EQ(process.at("unit"), cgroup_name());
  EXPECT_EQ(process.at("user"), "root");
  EXPECT_EQ(process.at("ports_in_use"), kStorm);
  EXPECT_EQ(process.at("protocols").at("tcp").at("states").at("ESTABLISHED"), kStorm);
  EXPECT_GE(process.at("fd_count").get<int>(), kStorm);
  const Json& top = process.at("destinations")[0];
  EXPECT_EQ(top.at("remote_address"), VethPair::kServerV4);
  EXPECT_EQ(top.at("remote_port"), kServerPort);
  EXPECT_EQ(top.at("sockets"), kStorm);
  // The owners came from one place, and every socket with a file was placed.
  EXPECT_EQ(snapshot.at("owners").at("sockets_unattributed"), 0);

  // The table, selected by name.
  RunResult table =
      run_ephport({"snapshot", "--netns", client_netns(), "--processes", "--process", kEaterName});
  ASSERT_EQ(table.exit_code, 0) << table.err;
  EXPECT_NE(table.out.find("Processes holding ephemeral ports (1):"), std::string::npos)
      << table.out;
  for (const std::string& expected :
       {std::to_string(eater_pid()), std::string(kEaterName), cgroup_name(), exe_of_this_test(),
        fmt::format("{}:{} ({})", VethPair::kServerV4, kServerPort, kStorm)}) {
    EXPECT_NE(table.out.find(expected), std::string::npos) << expected << "\n" << table.out;
  }
}

TEST_F(ProcessEvidence, BothOwnerSourcesAgree) {
  storm();
  std::vector<Json> views;
  for (const char* source : {"bpf", "procfs"}) {
    RunResult run = run_ephport(
        {"snapshot", "--netns", client_netns(), "--format", "json", "--owner-source", source});
    ASSERT_EQ(run.exit_code, 0) << source << ": " << run.err;
    Json snapshot = Json::parse(run.out);
    EXPECT_EQ(snapshot.at("owners").at("method"), source);
    views.push_back(snapshot.at("processes"));
  }
  EXPECT_EQ(views[0], views[1]);
}

// Without privileges ephport attributes what it can see and says what not:
// ephport and the eater run as nobody; root's processes stay unreadable.
TEST_F(ProcessEvidence, WithoutRootTheVisibleProcessIsNamedAndTheRestCounted) {
  storm(/*as_nobody=*/true);
  const std::string command = fmt::format(
      "ip netns exec {} setpriv --reuid=65534 --regid=65534 --clear-groups {} "
      "snapshot --format json --processes",
      client_netns(), EPHPORT_BINARY);
  FILE* pipe = ::popen(command.c_str(), "r");
  ASSERT_NE(pipe, nullptr);
  std::string out;
  char buffer[4096];
  while (size_t count = std::fread(buffer, 1, sizeof buffer, pipe)) {
    out.append(buffer, count);
  }
  ASSERT_EQ(::pclose(pipe), 0) << out;
  Json snapshot = Json::parse(out);
  const Json& owners = snapshot.at("owners");
  EXPECT_EQ(owners.at("method"), "procfs");  // no BPF without CAP_BPF: /proc instead
  EXPECT_GT(owners.at("processes_unreadable").get<int>(), 0);
  // The server's backlog sockets are root's (its holder never dropped privileges).
  EXPECT_EQ(owners.at("sockets_unattributed"), 0) << "they live in the other namespace";
  // Every socket here has its owner, so the pid counts are exact although
  // root's processes could not be read (issue #11: no + where none is due).
  EXPECT_EQ(owners.at("complete"), true);
  ASSERT_EQ(snapshot.at("processes").size(), 1u) << snapshot.at("processes").dump();
  const Json& process = snapshot.at("processes")[0];
  EXPECT_EQ(process.at("pid"), eater_pid());
  EXPECT_EQ(process.at("name"), kEaterName);
  EXPECT_EQ(process.at("user"), "nobody");
  EXPECT_EQ(process.at("exe"), exe_of_this_test());
  EXPECT_EQ(process.at("ports_in_use"), kStorm);
}

struct Bundle {
  std::string path;
  Json manifest;
};

std::vector<Bundle> bundles_in(const std::string& directory) {
  std::vector<Bundle> bundles;
  if (!fs::exists(directory)) {
    return bundles;
  }
  std::vector<std::string> names;
  for (const auto& entry : fs::directory_iterator(directory)) {
    names.push_back(entry.path().filename().string());
  }
  std::sort(names.begin(), names.end());
  for (const std::string& name : names) {
    if (name.starts_with(".partial-")) {
      continue;
    }
    std::string path = directory + "/" + name;
    bundles.push_back({path, Json::parse(slurp(path + "/MANIFEST.json"))});
  }
  return bundles;
}

// Every file the manifest lists is there with its size.
void expect_complete(const Bundle& bundle) {
  for (const Json& file : bundle.manifest.at("files")) {
    const std::string path = bundle.path + "/" + file.at("path").get<std::string>();
    ASSERT_TRUE(fs::exists(path)) << path;
    EXPECT_EQ(fs::file_size(path), file.at("bytes").get<uintmax_t>()) << path;
  }
}

size_t count_pure_syns(const std::string& pcap) {
  std::string command =
      "tcpdump -nn -r " + pcap + " 'tcp[tcpflags] & (tcp-syn|tcp-ack) == tcp-syn' 2>/dev/null";
  FILE* pipe = ::popen(command.c_str(), "r");
  if (pipe == nullptr) {
    throw std::runtime_error("cannot run tcpdump");
  }
  size_t lines = 0;
  char buffer[512];
  while (std::fgets(buffer, sizeof buffer, pipe) != nullptr) {
    ++lines;
  }
  int status = ::pclose(pipe);
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    throw std::runtime_error("tcpdump could not read " + pcap);
  }
  return lines;
}

// Waits until `path` has content (the log's first sample), at most 20 s.
void wait_for_content(const std::string& path) {
  for (int i = 0; i < 400; ++i) {
    std::error_code error;
    if (fs::file_size(path, error) > 0 && !error) {
      return;
    }
    std::this_thread::sleep_for(50ms);
  }
  throw std::runtime_error(path + " stayed empty");
}

class TempDirectory {
 public:
  TempDirectory() {
    char pattern[] = "/tmp/ephport-evidence-XXXXXX";
    if (::mkdtemp(pattern) == nullptr) {
      throw std::runtime_error("mkdtemp failed");
    }
    path_ = pattern;
  }
  ~TempDirectory() { fs::remove_all(path_); }
  TempDirectory(const TempDirectory&) = delete;
  TempDirectory& operator=(const TempDirectory&) = delete;
  std::string file(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

TEST_F(ProcessEvidence, ABundleTakenDuringTheStormHoldsTheEaterAndItsSyns) {
  TempDirectory dir;

  EphportProcess log({"log", "--netns", client_netns(), "--interval", "0.5", "--count", "8",
                      "--output", dir.file("ports.log"), "--capture", VethPair::kClientDevice});
  wait_for_content(dir.file("ports.log"));  // the ring is open, the first sample taken
  storm();
  RunResult result = log.finish(60s);
  ASSERT_EQ(result.exit_code, 0) << result.err;

  // 1500 of 3000 ports to one destination: 50 % >= 10 %, once (every 10 min).
  std::vector<Bundle> bundles = bundles_in(dir.file("evidence"));
  ASSERT_EQ(bundles.size(), 1u) << result.err;
  const Bundle& bundle = bundles[0];
  expect_complete(bundle);
  EXPECT_NE(result.err.find("evidence written to " + bundle.path), std::string::npos) << result.err;
  EXPECT_GE(bundle.manifest.at("trigger").at("pressure_percent").get<double>(), 10.0);

  Json processes = Json::parse(slurp(bundle.path + "/processes.json"));
  auto eater_row = std::find_if(processes.at("processes").begin(), processes.at("processes").end(),
                                [&](const Json& row) { return row.at("pid") == eater_pid(); });
  ASSERT_NE(eater_row, processes.at("processes").end()) << processes.dump();
  EXPECT_EQ(eater_row->at("name"), kEaterName);
  EXPECT_EQ(eater_row->at("ports_in_use"), kStorm);
  EXPECT_EQ(eater_row->at("addresses")[0].at("address"), VethPair::kClientV4);

  Json heavy = Json::parse(slurp(bundle.path + "/heavy/" + std::to_string(eater_pid()) + ".json"));
  EXPECT_EQ(heavy.at("exe"), exe_of_this_test());
  EXPECT_EQ(heavy.at("cgroup"), "/" + cgroup_name());
  EXPECT_FALSE(heavy.at("cmdline").get<std::string>().empty());
  EXPECT_GE(heavy.at("fd_count").get<int>(), kStorm);
  EXPECT_FALSE(heavy.at("limits").empty());
  bool has_libc = false;
  for (const Json& library : heavy.at("libraries")) {
    has_libc = has_libc || library.get<std::string>().find("libc.so") != std::string::npos;
  }
  EXPECT_TRUE(has_libc) << heavy.at("libraries").dump();

  Json sysctls = Json::parse(slurp(bundle.path + "/sysctls.json"));
  EXPECT_EQ(sysctls.at("net.ipv4.ip_local_port_range"), "40000\t42999");

  Json snapshot = Json::parse(slurp(bundle.path + "/snapshot.json"));
  EXPECT_EQ(snapshot.at("schema"), "ephport.snapshot/1");
  // The raw sockets replay to the same figures.
  RunResult replay =
      run_ephport({"analyze", bundle.path + "/sockets.capture.jsonl", "--format", "json"});
  ASSERT_EQ(replay.exit_code, 0) << replay.err;
  EXPECT_EQ(Json::parse(replay.out).at("protocols").at("tcp").at("pressure_percent"),
            snapshot.at("protocols").at("tcp").at("pressure_percent"));

  // The SYNs of the storm, read back by tcpdump.
  EXPECT_EQ(count_pure_syns(bundle.path + "/capture.pcap"), static_cast<size_t>(kStorm));
}

TEST_F(ProcessEvidence, BundlesRotateOldestFirst) {
  TempDirectory dir;
  storm();

  RunResult result = run_ephport({"log", "--netns", client_netns(), "--interval", "0.2", "--count",
                                  "7", "--output", dir.file("ports.log"), "--evidence-every", "0",
                                  "--evidence-keep", "3"});
  ASSERT_EQ(result.exit_code, 0) << result.err;
  std::vector<std::string> written;
  for (const std::string& line : split_lines(result.err)) {
    auto at = line.find("evidence written to ");
    if (at != std::string::npos) {
      std::string rest = line.substr(at + 20);
      written.push_back(rest.substr(0, rest.find(' ')));
    }
  }
  ASSERT_EQ(written.size(), 7u) << result.err;
  std::vector<Bundle> bundles = bundles_in(dir.file("evidence"));
  ASSERT_EQ(bundles.size(), 3u);
  for (size_t i = 0; i < 3; ++i) {
    EXPECT_EQ(bundles[i].path, written[4 + i]);  // the newest three, in order
    expect_complete(bundles[i]);
  }
}

TEST_F(ProcessEvidence, SigkillMidBundleNeverLeavesAHalfBundle) {
  TempDirectory dir;
  storm();

  // Bundles back to back, the oldest pruned before each (keep 2); kill at
  // varying moments until one kill lands in the middle of a bundle (a
  // partial directory is left), at most 40 tries. Kills inside a prune
  // leave .partial-pruned-: counted, not required (a prune is quick).
  const std::string evidence = dir.file("evidence");
  bool hit_mid_write = false;
  int hit_mid_prune = 0;
  for (int attempt = 0; attempt < 40 && !hit_mid_write; ++attempt) {
    EphportProcess log({"log", "--netns", client_netns(), "--interval", "0.1", "--output",
                        dir.file("ports.log"), "--evidence-dir", evidence, "--evidence-every", "0",
                        "--evidence-keep", "2"});
    std::this_thread::sleep_for(std::chrono::milliseconds(300 + 37 * attempt));
    log.signal(SIGKILL);
    log.finish(10s);
    for (const auto& entry : fs::directory_iterator(evidence)) {
      const std::string name = entry.path().filename().string();
      hit_mid_write = hit_mid_write || name.starts_with(".partial-");
      hit_mid_prune += name.starts_with(".partial-pruned-") ? 1 : 0;
    }
    for (const Bundle& bundle : bundles_in(evidence)) {  // every named one is whole
      expect_complete(bundle);
    }
  }
  ASSERT_TRUE(hit_mid_write) << "no kill landed inside a bundle in 40 tries";
  lab_note(fmt::format("kills inside a prune: {}", hit_mid_prune));

  // The next run removes what the crash left, and says so.
  RunResult next = run_ephport({"log", "--netns", client_netns(), "--count", "1", "--output",
                                dir.file("ports.log"), "--evidence-dir", evidence});
  ASSERT_EQ(next.exit_code, 0) << next.err;
  EXPECT_NE(next.err.find("incomplete evidence bundle(s)"), std::string::npos) << next.err;
  for (const auto& entry : fs::directory_iterator(evidence)) {
    EXPECT_FALSE(entry.path().filename().string().starts_with(".partial-"));
  }
}

}  // namespace
}  // namespace ephport::lab
