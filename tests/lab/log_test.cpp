// `ephport log`: appends whole records, keeps what the file held, writes the
// CSV header only into a new or empty file, stops cleanly on SIGTERM/SIGINT,
// and refuses bad options and unwritable outputs with one stderr line.
// Also `snapshot --save` + `analyze`: the same figures from the saved file.

#include <signal.h>

#include <chrono>
#include <filesystem>
#include <thread>

#include "lab_support.h"

namespace ephport::lab {
namespace {

using std::chrono::milliseconds;

// Cells in one CSV line (RFC 4180 quoting).
size_t csv_cells(const std::string& line) {
  size_t cells = 1;
  bool quoted = false;
  for (char c : line) {
    if (c == '"') {
      quoted = !quoted;
    } else if (c == ',' && !quoted) {
      ++cells;
    }
  }
  return cells;
}

class LogTest : public LabTest {
 protected:
  void SetUp() override {
    LabTest::SetUp();
    if (HasFatalFailure()) {
      return;
    }
    lab().set_range(40000, 40049);
    lab().listen("127.0.0.1", 8080);
    lab().connect("127.0.0.1", "127.0.0.1", 8080, 3);
    lab().connect("127.0.0.2", "127.0.0.1", 8080, 2);
    lab().bound_only(Proto::udp, "127.0.0.1");
    // The population is static: every sample has the same rows.
    const RunResult csv = run_ephport({"snapshot", "--format", "csv"});
    ASSERT_EQ(csv.exit_code, 0) << csv.err;
    const auto lines = split_lines(csv.out);
    ASSERT_GE(lines.size(), 2u) << csv.out;
    header_ = lines[0];
    rows_per_sample_ = lines.size() - 1;
  }

  RunResult log(const std::string& output, const std::string& format, int count,
                const std::vector<std::string>& extra = {}) {
    std::vector<std::string> args = {
        "log",      "--interval", "1",        "--count", std::to_string(count),
        "--format", format,       "--output", output};
    args.insert(args.end(), extra.begin(), extra.end());
    return run_ephport(args);
  }

  // Lines of `text` are `samples` whole CSV samples without a header.
  void expect_csv_samples(const std::string& text, size_t samples) {
    const auto lines = split_lines(text);
    EXPECT_EQ(lines.size(), samples * rows_per_sample_) << text;
    for (const std::string& line : lines) {
      EXPECT_NE(line, header_) << "a header inside the appended data:\n" << text;
      EXPECT_EQ(csv_cells(line), csv_cells(header_)) << "a partial row: " << line;
    }
    EXPECT_TRUE(text.empty() || text.back() == '\n') << "no final newline";
  }

  TempDir dir_;
  std::string header_;
  size_t rows_per_sample_ = 0;
};

TEST_F(LogTest, CsvNewOrEmptyFileGetsOneHeaderAndTwoSamples) {
  const std::string empty = dir_.file("empty.csv");
  write_file(empty, "");
  for (const std::string& file : {dir_.file("new.csv"), empty}) {
    SCOPED_TRACE(file);
    const RunResult run = log(file, "csv", 2);
    ASSERT_EQ(run.exit_code, 0) << run.err;
    const std::string content = read_file(file);
    ASSERT_EQ(content.rfind(header_ + "\n", 0), 0u) << content;
    expect_csv_samples(content.substr(header_.size() + 1), 2);
  }
}

TEST_F(LogTest, CsvAppendsAfterAPreviousRunWithoutASecondHeader) {
  const std::string file = dir_.file("previous.csv");
  const RunResult first = log(file, "csv", 1);
  ASSERT_EQ(first.exit_code, 0) << first.err;
  const std::string before = read_file(file);
  ASSERT_EQ(before.rfind(header_ + "\n", 0), 0u) << before;

  const RunResult second = log(file, "csv", 2);
  ASSERT_EQ(second.exit_code, 0) << second.err;
  const std::string after = read_file(file);
  ASSERT_EQ(after.substr(0, before.size()), before) << "the previous content changed";
  expect_csv_samples(after.substr(before.size()), 2);
}

TEST_F(LogTest, CsvKeepsForeignContentByteForByte) {
  const std::string file = dir_.file("foreign.csv");
  const std::string before = "# kept by the operator\n\xff\x01 binary bytes, no CSV\n";
  write_file(file, before);
  const RunResult run = log(file, "csv", 2);
  ASSERT_EQ(run.exit_code, 0) << run.err;
  const std::string after = read_file(file);
  ASSERT_EQ(after.substr(0, before.size()), before) << "the previous content changed";
  // Not new, not empty: no header.
  expect_csv_samples(after.substr(before.size()), 2);
}

TEST_F(LogTest, JsonlEachLineIsAWholeSnapshot) {
  const std::string file = dir_.file("log.jsonl");
  const RunResult run = log(file, "jsonl", 2);
  ASSERT_EQ(run.exit_code, 0) << run.err;
  const std::string content = read_file(file);
  const auto lines = split_lines(content);
  ASSERT_EQ(lines.size(), 2u) << content;
  EXPECT_EQ(content.back(), '\n');
  for (const std::string& line : lines) {
    const Json sample = Json::parse(line);
    EXPECT_EQ(sample.at("schema"), "ephport.snapshot/1");
    EXPECT_EQ(sample.at("protocols").at("tcp").at("capacity"), 50);
    const auto row = find_destination(sample, "tcp", "127.0.0.1", "127.0.0.1", 8080);
    ASSERT_TRUE(row) << line;
    EXPECT_EQ(row->at("in_use"), 3);
  }
  // Two samples an interval apart.
  EXPECT_NE(Json::parse(lines[0]).at("time"), Json::parse(lines[1]).at("time"));
}

// Starts a long log, signals it after ~2.5 s, expects a clean exit 0.
RunResult interrupt_log(const std::string& file, const std::string& format, int signo) {
  EphportProcess process(
      {"log", "--interval", "1", "--count", "100", "--format", format, "--output", file});
  std::this_thread::sleep_for(milliseconds(2500));
  process.signal(signo);
  // One interval plus a sample is plenty; a hang is killed and fails below.
  return process.finish(milliseconds(8000));
}

TEST_F(LogTest, SigtermLeavesOnlyWholeJsonlRecords) {
  const std::string file = dir_.file("term.jsonl");
  const RunResult run = interrupt_log(file, "jsonl", SIGTERM);
  EXPECT_EQ(run.exit_code, 0) << run.err;
  const std::string content = read_file(file);
  const auto lines = split_lines(content);
  EXPECT_GE(lines.size(), 2u) << content;
  EXPECT_LE(lines.size(), 4u) << content;
  EXPECT_TRUE(!content.empty() && content.back() == '\n');
  for (const std::string& line : lines) {
    EXPECT_NO_THROW(Json::parse(line).at("protocols").at("tcp")) << "a partial record: " << line;
  }
}

TEST_F(LogTest, SigintLeavesOnlyWholeCsvSamples) {
  const std::string file = dir_.file("int.csv");
  const RunResult run = interrupt_log(file, "csv", SIGINT);
  EXPECT_EQ(run.exit_code, 0) << run.err;
  const std::string content = read_file(file);
  ASSERT_EQ(content.rfind(header_ + "\n", 0), 0u) << content;
  const std::string data = content.substr(header_.size() + 1);
  const size_t samples = split_lines(data).size() / rows_per_sample_;
  EXPECT_GE(samples, 2u) << content;
  EXPECT_LE(samples, 4u) << content;
  expect_csv_samples(data, samples);
}

TEST_F(LogTest, UnwritableOutputFailsBeforeTheLoop) {
  const std::string missing = dir_.path() + "/no/such/dir/log.csv";
  for (const std::string& output : {missing, dir_.path()}) {
    SCOPED_TRACE(output);
    const RunResult run = log(output, "csv", 2);
    EXPECT_EQ(run.exit_code, 1) << run.err;
    EXPECT_EQ(line_count(run.err), 1u) << run.err;
    EXPECT_EQ(run.out, "") << "a sample was taken before the output was checked";
  }
  EXPECT_FALSE(std::filesystem::exists(dir_.path() + "/no"));
  EXPECT_TRUE(std::filesystem::is_directory(dir_.path()));
  EXPECT_TRUE(std::filesystem::is_empty(dir_.path()));
}

TEST_F(LogTest, OutputThatRefusesWritesFailsWithOneLine) {
  // Opens for append as root, but every write fails (EIO): a zero-length
  // write() already says so, before the first sample.
  const std::string version = read_file("/proc/version");
  const RunResult run = log("/proc/version", "csv", 2);
  EXPECT_EQ(run.exit_code, 1) << run.err;
  EXPECT_EQ(line_count(run.err), 1u) << run.err;
  EXPECT_EQ(read_file("/proc/version"), version);
  EXPECT_EQ(run.out, "") << "a sample was taken before the output was checked";
}

TEST_F(LogTest, BadOptionsAndValuesExitTwoWithOneLine) {
  const std::string file = dir_.file("never.csv");
  struct Case {
    std::vector<std::string> args;
    std::string named;  // the stderr line must name it
  };
  const std::vector<Case> cases = {
      {{"snapshot", "--bogus"}, "--bogus"},
      {{"log", "--bogus", "--count", "1", "--output", file}, "--bogus"},
      {{"log", "--interval", "abc", "--count", "1", "--output", file}, "interval"},
      {{"log", "--interval", "1", "--count", "1", "--format", "xml", "--output", file}, "format"},
      {{"snapshot", "--format", "xml"}, "format"},
      {{"snapshot", "--proto", "sctp"}, "proto"},
      {{"snapshot", "--top", "many"}, "top"},
      {{"snapshot", "--source", "carrier-pigeon"}, "source"},
  };
  for (const Case& c : cases) {
    std::string joined;
    for (const auto& arg : c.args) {
      joined += arg + " ";
    }
    SCOPED_TRACE(joined);
    const RunResult run = run_ephport(c.args);
    EXPECT_EQ(run.exit_code, 2) << run.err;
    EXPECT_EQ(line_count(run.err), 1u) << run.err;
    EXPECT_NE(run.err.find(c.named), std::string::npos) << run.err;
    EXPECT_EQ(run.out, "");
  }
  EXPECT_FALSE(std::filesystem::exists(file)) << "a refused command wrote its output";

  const RunResult missing = run_ephport({"analyze", dir_.file("no-such-snapshot.json")});
  EXPECT_TRUE(missing.exit_code == 1 || missing.exit_code == 2) << missing.exit_code;
  EXPECT_EQ(line_count(missing.err), 1u) << missing.err;
  const std::string garbage = dir_.file("garbage.json");
  write_file(garbage, "{ this is not a snapshot");
  const RunResult bad = run_ephport({"analyze", garbage});
  EXPECT_TRUE(bad.exit_code == 1 || bad.exit_code == 2) << bad.exit_code;
  EXPECT_EQ(line_count(bad.err), 1u) << bad.err;
}

TEST_F(LogTest, SavedSnapshotAnalysesToTheSameJson) {
  lab().set_tw_reuse(0);
  lab().time_wait("127.0.0.1", "127.0.0.1", 8080, 2);
  lab().bound_only(Proto::tcp, "127.0.0.3");
  const std::string file = dir_.file("saved.json");
  const Json original = snapshot_json({"--save", file});
  ASSERT_TRUE(std::filesystem::exists(file));

  const RunResult run = run_ephport({"analyze", file, "--format", "json", "--top", "1000"});
  ASSERT_EQ(run.exit_code, 0) << run.err;
  const Json analysed = Json::parse(run.out);
  for (const char* field : {"schema", "computer", "time", "platform", "bind_state"}) {
    EXPECT_EQ(analysed.at(field), original.at(field)) << field;
  }
  for (const char* proto : {"tcp", "udp"}) {
    EXPECT_EQ(analysed.at("protocols").at(proto), original.at("protocols").at(proto))
        << proto << "\nsnapshot: " << original.at("protocols").at(proto).dump()
        << "\nanalyze:  " << analysed.at("protocols").at(proto).dump();
  }
  const RunResult table = run_ephport({"analyze", file, "--format", "table"});
  EXPECT_EQ(table.exit_code, 0) << table.err;
  EXPECT_NE(table.out.find("127.0.0.1"), std::string::npos) << table.out;
}

}  // namespace
}  // namespace ephport::lab
