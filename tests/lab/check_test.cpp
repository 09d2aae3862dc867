// `ephport check` against real sockets: in a private namespace with the
// range 40000-40099 (100 ports), connections to one listener drive the TCP
// pressure to 50%, 85% and 97%; the check must answer OK, WARNING and
// CRITICAL with the default thresholds, and every perfdata value must equal
// the figure `ephport snapshot --format json` gives for the same namespace.
// Then the UNKNOWN paths: bad flags, bad ranges, a missing namespace, and a
// collection that hangs for real (--netns naming a FIFO: open() blocks).

#include <dirent.h>
#include <signal.h>
#include <sys/stat.h>

#include <algorithm>
#include <chrono>
#include <fstream>
#include <iterator>
#include <map>
#include <sstream>
#include <thread>

#include "lab_support.h"

namespace ephport::lab {
namespace {

constexpr uint16_t kFirst = 40000;
constexpr uint16_t kLast = 40099;
constexpr int kCapacity = 100;

// Both runs read the bind state the same way: figures comparable call for call.
const std::vector<std::string> kSameView = {"--bind-state", "estimate"};

struct Perf {
  double value = 0;
  std::string uom;
  std::string warning;
  std::string critical;
  std::string min;
  std::string max;
};

// 'label'=value[uom];warn;crit;min;max ... -> label -> fields.
std::map<std::string, Perf> parse_perfdata(const std::string& first_line) {
  std::map<std::string, Perf> out;
  const size_t bar = first_line.find(" | ");
  if (bar == std::string::npos) {
    ADD_FAILURE() << "no perfdata in: " << first_line;
    return out;
  }
  std::istringstream items(first_line.substr(bar + 3));
  std::string item;
  while (items >> item) {
    const size_t equals = item.find("'=");
    if (item.front() != '\'' || equals == std::string::npos) {
      ADD_FAILURE() << "perfdata item not 'label'=...: " << item;
      continue;
    }
    const std::string label = item.substr(1, equals - 1);
    std::vector<std::string> fields;
    std::istringstream rest(item.substr(equals + 2));
    std::string field;
    while (std::getline(rest, field, ';')) {
      fields.push_back(field);
    }
    fields.resize(5);
    Perf perf;
    size_t number_end = 0;
    perf.value = std::stod(fields[0], &number_end);
    perf.uom = fields[0].substr(number_end);
    perf.warning = fields[1];
    perf.critical = fields[2];
    perf.min = fields[3];
    perf.max = fields[4];
    out[label] = perf;
  }
  return out;
}

std::string first_line(const std::string& text) {
  return text.substr(0, text.find('\n'));
}

// What the perfdata must say, computed from the snapshot JSON as
// docs/deploy.md and plugin_check.h define it.
void expect_perfdata_matches(const std::map<std::string, Perf>& perf, const Json& snapshot,
                             const std::string& proto) {
  SCOPED_TRACE(proto);
  const Json& p = snapshot.at("protocols").at(proto);
  const int capacity = p.at("capacity").get<int>();
  int bind_free = capacity;
  for (const Json& row : p.at("addresses")) {
    bind_free = std::min(bind_free, row.at("bind_free").get<int>());
  }
  int least_connect_free = capacity - p.at("bind_owned_ports").get<int>();
  for (const Json& row : p.at("destinations")) {
    least_connect_free = std::min(least_connect_free, row.at("connect_free").get<int>());
  }
  int least_free = bind_free;
  for (const Json& row : p.at("destinations")) {
    least_free = std::min(least_free, row.at("connect_free").get<int>());
  }
  const std::string cap = std::to_string(capacity);
  ASSERT_TRUE(perf.count(proto + "_pressure"));
  EXPECT_DOUBLE_EQ(perf.at(proto + "_pressure").value, p.at("pressure_percent").get<double>());
  EXPECT_EQ(perf.at(proto + "_pressure").uom, "%");
  EXPECT_EQ(perf.at(proto + "_pressure").max, "100");
  EXPECT_EQ(perf.at(proto + "_in_use").value, capacity - least_free);
  EXPECT_EQ(perf.at(proto + "_in_use").max, cap);
  EXPECT_EQ(perf.at(proto + "_bind_free").value, bind_free);
  EXPECT_EQ(perf.at(proto + "_bind_free").max, cap);
  EXPECT_EQ(perf.at(proto + "_sockets").value, p.at("sockets").get<double>());
  if (proto == "tcp") {
    EXPECT_EQ(perf.at("tcp_connect_free").value, least_connect_free);
    const Json& states = p.at("states");
    EXPECT_EQ(perf.at("tcp_time_wait").value,
              states.contains("TIME_WAIT") ? states.at("TIME_WAIT").get<int>() : 0);
  } else {
    EXPECT_FALSE(perf.count("udp_connect_free"));
  }
}

class CheckTest : public LabTest {
 protected:
  void SetUp() override {
    LabTest::SetUp();
    lab().set_range(kFirst, kLast);
    lab().listen("127.0.0.1", 8080);
  }

  // Connections 127.0.0.1 -> 127.0.0.1:8080 until `total` of them exist.
  void connections(int total) {
    lab().connect("127.0.0.1", "127.0.0.1", 8080, total - connected_);
    connected_ = total;
  }

  RunResult check(std::vector<std::string> args) {
    args.insert(args.begin(), "check");
    args.insert(args.end(), kSameView.begin(), kSameView.end());
    return run_ephport(args);
  }

  int connected_ = 0;
};

TEST_F(CheckTest, PressureStepsGiveOkWarningCriticalWithMatchingPerfdata) {
  // UDP too, so both protocols' perfdata are compared: 10 bound sockets.
  for (int i = 0; i < 10; ++i) {
    lab().bound_only(Proto::udp, "127.0.0.1");
  }
  struct Step {
    int connections;
    int exit_code;
    const char* state;
  };
  for (const Step& step : {Step{50, 0, "OK"}, Step{85, 1, "WARNING"}, Step{97, 2, "CRITICAL"}}) {
    SCOPED_TRACE(step.connections);
    connections(step.connections);
    const RunResult run = check({});
    const Json snapshot = snapshot_json(kSameView);
    lab_note(first_line(run.out));
    EXPECT_EQ(run.exit_code, step.exit_code) << run.out << run.err;
    EXPECT_EQ(run.out.rfind(std::string("EPHPORT ") + step.state + " - tcp pressure " +
                                std::to_string(step.connections) + "% (",
                            0),
              0U)
        << run.out;
    EXPECT_EQ(line_count(run.out), 1U) << run.out;
    const double pressure = snapshot.at("protocols").at("tcp").at("pressure_percent");
    EXPECT_DOUBLE_EQ(pressure, step.connections * 100.0 / kCapacity);
    const auto perf = parse_perfdata(first_line(run.out));
    EXPECT_EQ(perf.at("tcp_pressure").warning, "80");
    EXPECT_EQ(perf.at("tcp_pressure").critical, "95");
    expect_perfdata_matches(perf, snapshot, "tcp");
    expect_perfdata_matches(perf, snapshot, "udp");
    EXPECT_DOUBLE_EQ(perf.at("udp_pressure").value, 10.0);
  }
}

TEST_F(CheckTest, GivenRangesAndMetrics) {
  connections(85);  // 15 ports left to 127.0.0.1 -> 127.0.0.1:8080
  struct Case {
    std::vector<std::string> args;
    int exit_code;
  };
  const std::vector<Case> cases = {
      {{"-w", "90", "-c", "99"}, 0},
      {{"-w", "@80:90", "-c", "99"}, 1},
      {{"--warning", "~:50", "--critical", "84.99"}, 2},
      {{"--metric", "bind_free"}, 1},  // defaults 20: and 5:; 15 left is below 20
      {{"--metric", "connect_free", "-w", "16:", "-c", "15:"}, 1},
      {{"--metric", "connect_free", "-w", "16:", "-c", "16:"}, 2},
      {{"--metric", "bind_free", "-w", "20:", "-c", "10:", "--proto", "tcp"}, 1},
  };
  for (const Case& c : cases) {
    std::string joined;
    for (const std::string& arg : c.args) {
      joined += arg + " ";
    }
    SCOPED_TRACE(joined);
    const RunResult run = check(c.args);
    lab_note(joined + "-> " + first_line(run.out));
    EXPECT_EQ(run.exit_code, c.exit_code) << run.out << run.err;
  }
  // The thresholds given are the ones perfdata repeats, on the checked figure.
  const RunResult run = check({"--metric", "connect_free", "-w", "30:", "-c", "@0:10"});
  const auto perf = parse_perfdata(first_line(run.out));
  EXPECT_EQ(perf.at("tcp_connect_free").value, 15);
  EXPECT_EQ(perf.at("tcp_connect_free").warning, "30:");
  EXPECT_EQ(perf.at("tcp_connect_free").critical, "@0:10");
  EXPECT_EQ(perf.at("tcp_pressure").warning, "");
  EXPECT_EQ(run.exit_code, 1) << run.out;
  // kSameView: estimated, so the status line says the figure is a worst case.
  EXPECT_NE(run.out.find(
                "tcp connect_free 15 of 100 (estimated worst case; 127.0.0.1 -> 127.0.0.1:8080)"),
            std::string::npos)
      << run.out;
}

TEST_F(CheckTest, VerboseAddsTheWorstRowsAfterTheSameFirstLine) {
  connections(60);
  const RunResult quiet = check({"--proto", "tcp"});
  const RunResult verbose = check({"--proto", "tcp", "-v"});
  EXPECT_EQ(verbose.exit_code, 0);
  const auto lines = split_lines(verbose.out);
  ASSERT_GE(lines.size(), 3U) << verbose.out;
  EXPECT_EQ(lines[0], first_line(quiet.out));
  EXPECT_EQ(lines[1].rfind("tcp: range 40000-40099, capacity 100,", 0), 0U) << lines[1];
  EXPECT_EQ(lines[2], "  tcp 127.0.0.1 -> 127.0.0.1:8080: 40 of 100 left (60% used, 60 sockets)");
  EXPECT_LE(lines.size(), 2U + 5U + 1U);
}

TEST_F(CheckTest, UsageErrorsAreUnknown) {
  for (const std::vector<std::string>& args : std::vector<std::vector<std::string>>{
           {"--no-such-flag"},
           {"-w"},
           {"-w", "20:10"},
           {"-c", "abc"},
           {"--metric", "free"},
           {"--proto", "sctp"},
           {"-t", "0"},
           {"--range", "5-1"},
           {"--netns", "all"},
           {"--metric", "connect_free", "--proto", "udp"},
           {"extra-argument"},
       }) {
    std::string joined;
    for (const std::string& arg : args) {
      joined += arg + " ";
    }
    SCOPED_TRACE(joined);
    const RunResult run = run_ephport([&] {
      std::vector<std::string> all = {"check"};
      all.insert(all.end(), args.begin(), args.end());
      return all;
    }());
    lab_note(joined + "-> " + first_line(run.out));
    EXPECT_EQ(run.exit_code, 3) << run.out << run.err;
    EXPECT_EQ(run.out.rfind("EPHPORT UNKNOWN - ", 0), 0U) << run.out;
    EXPECT_EQ(line_count(run.out), 1U) << run.out;
  }
}

TEST_F(CheckTest, MissingNamespaceIsUnknownWithTheReason) {
  const RunResult run = check({"--netns", "ephport-no-such-namespace"});
  EXPECT_EQ(run.exit_code, 3);
  EXPECT_EQ(first_line(run.out).rfind("EPHPORT UNKNOWN - network namespace "
                                      "'ephport-no-such-namespace' not found",
                                      0),
            0U)
      << run.out;
}

// Processes whose command line names `needle` (the check's child inherits
// the parent's).
int processes_mentioning(const std::string& needle) {
  DIR* proc = ::opendir("/proc");
  int found = 0;
  while (dirent* entry = ::readdir(proc)) {
    if (entry->d_name[0] < '1' || entry->d_name[0] > '9') {
      continue;
    }
    // Not read_file(): a process may exit while the directory is walked.
    std::ifstream in(std::string("/proc/") + entry->d_name + "/cmdline");
    std::string cmdline((std::istreambuf_iterator<char>(in)), {});
    std::replace(cmdline.begin(), cmdline.end(), '\0', ' ');
    found += cmdline.find(needle) != std::string::npos ? 1 : 0;
  }
  ::closedir(proc);
  return found;
}

// A real hang: open() of a FIFO nobody writes blocks in the kernel.
TEST_F(CheckTest, HungCollectionAnswersUnknownAtTheTimeout) {
  TempDir dir;
  const std::string fifo = dir.file("hang-netns");
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  const auto start = std::chrono::steady_clock::now();
  const RunResult run = check({"--netns", fifo, "-t", "1"});
  const auto took = std::chrono::steady_clock::now() - start;
  lab_note(first_line(run.out));
  EXPECT_EQ(run.exit_code, 3) << run.out << run.err;
  EXPECT_EQ(run.out,
            "EPHPORT UNKNOWN - no answer within the 1 s timeout: the collection did not finish "
            "(raise -t/--timeout)\n");
  // Within -t: the last 50 ms are for killing the collection. The upper
  // bound adds ephport's start-up on a loaded machine.
  EXPECT_GE(took, std::chrono::milliseconds(950));
  EXPECT_LT(took, std::chrono::milliseconds(1500));
  // The stuck child was killed, not left blocking.
  bool gone = false;
  for (int i = 0; i < 100 && !gone; ++i) {
    gone = processes_mentioning(fifo) == 0;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_TRUE(gone) << "a process still runs with " << fifo;
}

// The parent killed from outside (a monitoring system's own timeout) takes
// the collection with it.
TEST_F(CheckTest, KilledCheckTakesItsCollectionAlong) {
  TempDir dir;
  const std::string fifo = dir.file("hang-netns");
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  EphportProcess process({"check", "--netns", fifo, "-t", "60"});
  int running = 0;  // the check and its collection, blocked in open()
  for (int i = 0; i < 200 && running < 2; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
    running = processes_mentioning(fifo);
  }
  ASSERT_EQ(running, 2);
  process.signal(SIGKILL);
  process.finish(std::chrono::seconds(5));
  bool gone = false;
  for (int i = 0; i < 100 && !gone; ++i) {
    gone = processes_mentioning(fifo) == 0;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_TRUE(gone) << "the collection outlived the killed check";
}

}  // namespace
}  // namespace ephport::lab
