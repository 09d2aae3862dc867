// Command-line rough edges found by trying ephport as a new user would
// (issue #11): each test runs the real binary and fails on the old
// behaviour (quoted above each test).

#include <gtest/gtest.h>
#include <sys/wait.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "lab_support.h"

namespace ephport::lab {
namespace {

// Was: "ephport: The following argument was not expected: help (see 'ephport --help')", exit 2.
TEST(CliRoughEdges, HelpIsACommand) {
  const RunResult run = run_ephport({"help"});
  EXPECT_EQ(run.exit_code, 0) << run.err;
  EXPECT_NE(run.out.find("Usage: ephport [OPTIONS] [SUBCOMMAND]"), std::string::npos) << run.out;
  EXPECT_NE(run.out.find("snapshot"), std::string::npos) << run.out;
}

// Was: "The following argument was not expected: frobnicate (see 'ephport --help')".
TEST(CliRoughEdges, UnknownCommandIsNamedAsOne) {
  const RunResult run = run_ephport({"frobnicate"});
  EXPECT_EQ(run.exit_code, 2);
  EXPECT_EQ(run.err,
            "ephport: unknown command 'frobnicate'; the commands are snapshot, log, analyze, "
            "check and serve (see 'ephport --help')\n");
}

// Was: `-V` printed "0.1.0" and `check -V` "ephport 0.1.0".
TEST(CliRoughEdges, VersionIsTheSameLineEverywhere) {
  const RunResult top = run_ephport({"-V"});
  const RunResult check = run_ephport({"check", "-V"});
  EXPECT_EQ(top.exit_code, 0);
  EXPECT_EQ(top.out, "ephport " EPHPORT_VERSION "\n");
  EXPECT_EQ(check.out, top.out);
}

// Was: exit 1, while input errors exit 2.
TEST(CliRoughEdges, MissingAnalyzeFileIsAnInputError) {
  const RunResult run = run_ephport({"analyze", "/nonexistent/capture.jsonl"});
  EXPECT_EQ(run.exit_code, 2);
  EXPECT_EQ(run.err,
            "ephport: cannot read /nonexistent/capture.jsonl: No such file or directory\n");
}

// Was: "malformed JSON at column 1: ..." for a file that is no capture at all.
TEST(CliRoughEdges, AnalyzeSaysWhatTheFileIsNot) {
  TempDir dir;
  const std::string path = dir.file("EphemeralPortStats.log");
  std::ofstream(path) << "Computer DateTime LocalAddress #OfEPortsInUse\n";
  const RunResult run = run_ephport({"analyze", path});
  EXPECT_EQ(run.exit_code, 2);
  EXPECT_EQ(run.err, "ephport: " + path +
                         ":1: not an ephport.capture/1 file (expected the JSON Lines that "
                         "'ephport snapshot --save' writes)\n");
}

// Was: exit 0 and the process list silently dropped.
TEST(CliRoughEdges, ProcessesInCsvAreAUsageError) {
  for (const char* option : {"--processes", "--pid=1"}) {
    SCOPED_TRACE(option);
    const RunResult run = run_ephport({"snapshot", "--format", "csv", option});
    EXPECT_EQ(run.exit_code, 2);
    EXPECT_NE(run.err.find("CSV holds the address rows only (use --format table or json)"),
              std::string::npos)
        << run.err;
    EXPECT_EQ(run.out, "");
  }
}

// Was: "--top INT:INT in [0 - 1000000]" without its default.
TEST(CliRoughEdges, HelpShowsTheTopDefault) {
  const RunResult run = run_ephport({"snapshot", "--help"});
  EXPECT_NE(run.out.find("--top INT:INT in [0 - 1000000]=10"), std::string::npos) << run.out;
}

// Was: "Processes (0)" and nothing else for a pid that holds no port.
TEST(CliRoughEdges, UnmatchedPidIsSaid) {
  const RunResult run = run_ephport({"snapshot", "--pid", "999999999", "--owner-source", "procfs"});
  EXPECT_EQ(run.exit_code, 0) << run.err;
  EXPECT_NE(
      run.err.find("ephport: note: no process matching --pid/--process holds a port of the range"),
      std::string::npos)
      << run.err;
}

// Was: check --help and serve --help offered `--netns all`, which they refuse.
TEST(CliRoughEdges, CheckAndServeDoNotOfferNetnsAll) {
  for (const char* command : {"check", "serve"}) {
    SCOPED_TRACE(command);
    const RunResult run = run_ephport({command, "--help"});
    EXPECT_NE(run.out.find("--netns"), std::string::npos) << run.out;
    EXPECT_EQ(run.out.find("`all`"), std::string::npos) << run.out;
  }
  EXPECT_NE(run_ephport({"snapshot", "--help"}).out.find("`all`"), std::string::npos);
}

// Was: exit 0 although no host ever answered.
TEST(CliRoughEdges, FleetLogWhereNoHostAnswersFails) {
  TempDir dir;
  const std::string log = dir.file("fleet.log");
  // Port 1 on loopback: refused at once.
  const RunResult run = run_ephport(
      {"log", "--computers", "127.0.0.1:1", "--count", "1", "--timeout", "2", "--output", log});
  EXPECT_EQ(run.exit_code, 1) << run.out << run.err;
  EXPECT_NE(run.err.find("ephport: no host of --computers answered in any sample"),
            std::string::npos)
      << run.err;
  EXPECT_NE(read_file(log).find("127.0.0.1:1"), std::string::npos) << "the row is still logged";
}

// Runs ephport as the user nobody (no CAP_BPF: the bind state is
// estimated), as an unprivileged monitoring agent would.
RunResult run_as_nobody(const std::string& arguments) {
  TempDir dir;
  const std::string command = "setpriv --reuid=nobody --regid=nogroup --clear-groups " +
                              std::string(EPHPORT_BINARY) + " " + arguments + " >" +
                              dir.file("out") + " 2>" + dir.file("err");
  const int status = std::system(command.c_str());
  RunResult run;
  run.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  run.out = read_file(dir.file("out"));
  run.err = read_file(dir.file("err"));
  return run;
}

size_t lines_with(const std::string& text, std::string_view what) {
  size_t count = 0;
  for (const std::string& line : split_lines(text)) {
    count += line.find(what) != std::string::npos ? 1 : 0;
  }
  return count;
}

// Was: as nobody the reason BPF failed, with the setcap/AmbientCapabilities
// hint, on stderr and again in the table's note; now once per run, where
// the reader looks: the table's notes, else stderr (CSV, log: once, not per
// sample).
TEST(CliRoughEdges, BpfNoticeOncePerRun) {
  struct Case {
    const char* arguments;
    bool in_table;
  };
  for (const Case& each :
       {Case{"snapshot --proto tcp", true}, Case{"snapshot --format csv", false},
        Case{"log --count 3 --interval 0.1 --no-evidence --output /dev/null", false},
        Case{"log --count 2 --interval 0.1 --no-evidence --format csv "
             "--output /dev/null",
             false}}) {
    SCOPED_TRACE(each.arguments);
    const RunResult run = run_as_nobody(each.arguments);
    EXPECT_EQ(run.exit_code, 0) << run.err;
    const std::string both = run.out + run.err;
    EXPECT_EQ(lines_with(both, "setcap cap_bpf,cap_perfmon+ep"), 1u) << both;
    EXPECT_EQ(lines_with(both, "AmbientCapabilities=CAP_BPF CAP_PERFMON"), 1u) << both;
    EXPECT_EQ(lines_with(each.in_table ? run.out : run.err, "setcap"), 1u) << both;
  }
}

// Was: `analyze BUNDLE/sockets.capture.jsonl --processes` listed the pids
// with "-" for every name although the bundle's processes.json names them,
// and `analyze BUNDLE` was refused as a directory. The test process holds
// five connections in a lab namespace; `log` writes a bundle at once.
class CliRoughEdgesBundle : public LabTest {};

TEST_F(CliRoughEdgesBundle, AnalyzeOfABundleNamesItsProcesses) {
  lab().set_range(40000, 40019);
  lab().listen("127.0.0.1", 8080);
  lab().connect("127.0.0.1", "127.0.0.1", 8080, 5);
  TempDir dir;
  const RunResult log =
      run_ephport({"log", "--count", "1", "--evidence-at", "0", "--output", dir.file("ports.log")});
  ASSERT_EQ(log.exit_code, 0) << log.err;
  std::string bundle;
  for (const auto& entry : std::filesystem::directory_iterator(dir.file("evidence"))) {
    bundle = entry.path().string();
  }
  ASSERT_FALSE(bundle.empty()) << log.err;
  const std::string self = std::to_string(::getpid());

  const RunResult table =
      run_ephport({"analyze", bundle + "/sockets.capture.jsonl", "--processes"});
  ASSERT_EQ(table.exit_code, 0) << table.err;
  bool named = false;
  for (const std::string& line : split_lines(table.out)) {
    std::istringstream words(line);
    std::string pid, name;
    words >> pid >> name;
    if (pid == self) {
      EXPECT_EQ(name, "lab_tests") << table.out;
      named = true;
    }
  }
  EXPECT_TRUE(named) << table.out;

  for (const std::string& path : {bundle, bundle + "/"}) {
    const RunResult json = run_ephport({"analyze", path, "--format", "json", "--pid", self});
    ASSERT_EQ(json.exit_code, 0) << json.err;
    const Json processes = Json::parse(json.out).at("processes");
    ASSERT_EQ(processes.size(), 1u) << json.out;
    EXPECT_EQ(processes[0].at("name"), "lab_tests");
    EXPECT_EQ(processes[0].at("exe"), std::filesystem::read_symlink("/proc/self/exe").string());
    EXPECT_EQ(processes[0].at("ports_in_use"), 5);
  }

  // A directory that is no bundle is still bad input.
  const RunResult not_bundle = run_ephport({"analyze", dir.path()});
  EXPECT_EQ(not_bundle.exit_code, 2);
  EXPECT_EQ(not_bundle.err, "ephport: " + dir.path() +
                                " is a directory, not an evidence bundle (no "
                                "sockets.capture.jsonl in it)\n");

  // A processes.json of another sample names nothing, and says so.
  const std::string processes = bundle + "/processes.json";
  std::ofstream(processes, std::ios::trunc)
      << R"({"schema":"ephport.processes/1","time":"2020-01-01T00:00:00.000Z","processes":[{"pid":)"
      << self << R"(,"name":"impostor"}]})";
  const RunResult other = run_ephport({"analyze", bundle, "--format", "json", "--pid", self});
  EXPECT_EQ(other.exit_code, 0) << other.err;
  EXPECT_EQ(line_count(other.err), 1u) << other.err;
  EXPECT_NE(other.err.find("is of another sample (2020-01-01T00:00:00.000Z"), std::string::npos)
      << other.err;
  EXPECT_TRUE(Json::parse(other.out).at("processes")[0].at("name").is_null()) << other.out;

  // A damaged or hostile processes.json: one line naming it, exit 2.
  for (const std::string& content :
       {std::string("{\"schema\":\"ephport.processes/1\",\"processes\":[{\"pid\":") + self +
            ",\"name\":7}]}",
        std::string(200000, '['),
        "{\"schema\":\"ephport.processes/1\",\"x\":\"" + std::string(1 << 20, 'a') + "\"}"}) {
    std::ofstream(processes, std::ios::trunc) << content;
    const RunResult run = run_ephport({"analyze", bundle, "--processes"});
    EXPECT_EQ(run.exit_code, 2) << run.err.substr(0, 300);
    EXPECT_EQ(line_count(run.err), 1u) << run.err.substr(0, 300);
    EXPECT_EQ(run.err.rfind("ephport: " + processes + ": ", 0), 0u) << run.err.substr(0, 300);
    EXPECT_EQ(run.out, "");
  }
}

}  // namespace
}  // namespace ephport::lab
