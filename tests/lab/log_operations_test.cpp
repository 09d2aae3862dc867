// `ephport log` under the operations a log lives through (issue #12): moved
// away (logrotate's create mode), deleted, SIGHUP from logrotate's
// postrotate, a reader that closes the pipe after one line, and --max-size
// rotation. A real child, the real file system; every wait is bounded.

#include <signal.h>
#include <sys/stat.h>

#include <chrono>
#include <filesystem>
#include <thread>

#include "lab_support.h"
#include "serve_support.h"

namespace ephport::lab {
namespace {

using std::chrono::milliseconds;

class LogOperationsTest : public LabTest {
 protected:
  void SetUp() override {
    LabTest::SetUp();
    if (HasFatalFailure()) {
      return;
    }
    lab().set_range(40000, 40049);
    lab().listen("127.0.0.1", 8080);
    lab().connect("127.0.0.1", "127.0.0.1", 8080, 3);
    const RunResult csv = run_ephport({"snapshot", "--format", "csv"});
    ASSERT_EQ(csv.exit_code, 0) << csv.err;
    const auto lines = split_lines(csv.out);
    ASSERT_GE(lines.size(), 2u) << csv.out;
    header_ = lines[0];
    rows_per_sample_ = lines.size() - 1;
  }

  // A CSV log every 0.1 s into `file`, until stopped.
  std::unique_ptr<EphportProcess> start_log(const std::string& file,
                                            const std::vector<std::string>& extra = {}) {
    std::vector<std::string> args = {"log",      "--interval", "0.1",      "--count", "100000",
                                     "--format", "csv",        "--output", file};
    args.insert(args.end(), extra.begin(), extra.end());
    return std::make_unique<EphportProcess>(args);
  }

  // Waits (bounded: 30 s) until `file` holds a header and `samples` samples.
  bool wait_for_samples(const std::string& file, size_t samples) {
    for (int tries = 0; tries < 300; ++tries) {
      if (std::filesystem::exists(file) &&
          line_count(read_file(file)) >= 1 + samples * rows_per_sample_) {
        return true;
      }
      std::this_thread::sleep_for(milliseconds(100));
    }
    return false;
  }

  // `text` is a header, then whole samples only.
  void expect_whole_csv(const std::string& text, const std::string& name) {
    ASSERT_EQ(text.rfind(header_ + "\n", 0), 0u) << name << " has no header first:\n" << text;
    const auto lines = split_lines(text);
    EXPECT_EQ((lines.size() - 1) % rows_per_sample_, 0u) << name << " has a partial sample";
    for (size_t i = 1; i < lines.size(); ++i) {
      EXPECT_NE(lines[i], header_) << name << " has a header inside";
    }
    EXPECT_EQ(text.back(), '\n') << name;
  }

  static size_t count_of(const std::string& text, const std::string& word) {
    size_t found = 0;
    for (size_t at = text.find(word); at != std::string::npos; at = text.find(word, at + 1)) {
      ++found;
    }
    return found;
  }

  TempDir dir_;
  std::string header_;
  size_t rows_per_sample_ = 0;
};

TEST_F(LogOperationsTest, MovedLogIsReopenedByNameAndSaidOnce) {
  const std::string file = dir_.file("ports.csv");
  auto log = start_log(file);
  ASSERT_TRUE(wait_for_samples(file, 1));
  ASSERT_EQ(::rename(file.c_str(), (file + ".1").c_str()), 0);
  const bool continued = wait_for_samples(file, 2);
  log->signal(SIGTERM);
  const RunResult run = log->finish(milliseconds(10000));
  EXPECT_TRUE(continued) << "no new " << file << " after mv";
  EXPECT_EQ(run.exit_code, 0) << run.err;
  expect_whole_csv(read_file(file + ".1"), "ports.csv.1");
  expect_whole_csv(read_file(file), "ports.csv");
  EXPECT_EQ(count_of(run.err, "renamed"), 1u) << run.err;
  EXPECT_EQ(line_count(run.err), 1u) << run.err;
}

TEST_F(LogOperationsTest, DeletedLogIsRecreatedAndSaidOnce) {
  const std::string file = dir_.file("ports.csv");
  auto log = start_log(file);
  ASSERT_TRUE(wait_for_samples(file, 1));
  ASSERT_EQ(::unlink(file.c_str()), 0);
  const bool continued = wait_for_samples(file, 2);
  log->signal(SIGTERM);
  const RunResult run = log->finish(milliseconds(10000));
  EXPECT_TRUE(continued) << "no new " << file << " after rm";
  EXPECT_EQ(run.exit_code, 0) << run.err;
  expect_whole_csv(read_file(file), "ports.csv");
  EXPECT_EQ(line_count(run.err), 1u) << run.err;
}

// logrotate's create mode with postrotate `kill -HUP`: the file is moved, a
// new empty one made, then SIGHUP. Logging goes on into the new file.
TEST_F(LogOperationsTest, SighupReopensTheOutputAndDoesNotEndTheLog) {
  const std::string file = dir_.file("ports.csv");
  auto log = start_log(file);
  ASSERT_TRUE(wait_for_samples(file, 1));
  ASSERT_EQ(::rename(file.c_str(), (file + ".1").c_str()), 0);
  write_file(file, "");
  log->signal(SIGHUP);
  const bool continued = wait_for_samples(file, 2);
  log->signal(SIGTERM);
  const RunResult run = log->finish(milliseconds(10000));
  EXPECT_EQ(run.exit_code, 0) << run.err;
  EXPECT_TRUE(continued) << "nothing logged after SIGHUP";
  expect_whole_csv(read_file(file + ".1"), "ports.csv.1");
  expect_whole_csv(read_file(file), "ports.csv");
  // One reopen said; two when a sample fell between the mv and the SIGHUP
  // (the moved file noticed, then the signal).
  EXPECT_NE(run.err.find("SIGHUP"), std::string::npos) << run.err;
  EXPECT_LE(line_count(run.err), 2u) << run.err;
}

// `log | head -1`: the reader leaves after one line; log ends quietly, 0,
// with whole samples in the file.
TEST_F(LogOperationsTest, ClosedPipeEndsTheLogQuietlyWithTheFileWhole) {
  const std::string file = dir_.file("ports.csv");
  const std::string status = dir_.file("status");
  const std::string script =
      "timeout 60 \"$0\" log --interval 0.1 --count 100000 --format csv --output \"$1\" | "
      "head -1 >/dev/null; echo \"${PIPESTATUS[0]}\" > \"$2\"";
  const ProgramResult run = run_program({"/bin/bash", "-c", script, EPHPORT_BINARY, file, status});
  EXPECT_EQ(run.exit_code, 0) << run.out;
  EXPECT_EQ(read_file(status), "0\n") << "log's exit code through the pipe; stderr: " << run.out;
  EXPECT_EQ(run.out, "") << "not quiet";
  expect_whole_csv(read_file(file), "ports.csv");
}

TEST_F(LogOperationsTest, MaxSizeRotatesByRenameWithHeadersAndKeepsMaxFiles) {
  const std::string file = dir_.file("ports.csv");
  auto log = start_log(file, {"--max-size", "1K", "--max-files", "2"});
  bool rotated_twice = false;
  for (int tries = 0; tries < 300 && !rotated_twice; ++tries) {
    rotated_twice = std::filesystem::exists(file + ".2") && wait_for_samples(file, 1);
    std::this_thread::sleep_for(milliseconds(100));
  }
  log->signal(SIGTERM);
  const RunResult run = log->finish(milliseconds(10000));
  EXPECT_EQ(run.exit_code, 0) << run.err;
  ASSERT_TRUE(rotated_twice) << run.err;
  EXPECT_FALSE(std::filesystem::exists(file + ".3"));
  for (const std::string& name : {file, file + ".1", file + ".2"}) {
    const std::string text = read_file(name);
    expect_whole_csv(text, name);
    // Past 1 KiB only when one sample alone is bigger (it goes whole).
    EXPECT_TRUE(text.size() <= 1024 || line_count(text) == 1 + rows_per_sample_) << name;
  }
}

// `serve` and SIGHUP: the web config is re-read, a bad one keeps the one in
// use (said on stderr), and serve goes on answering with its credentials.
class ServeSighupTest : public LabTest {
 protected:
  // Polls the serve log (bounded: 10 s) until it contains `text`.
  static bool wait_for_log(const ServeProcess& serve, const std::string& text) {
    for (int tries = 0; tries < 100; ++tries) {
      if (serve.log().find(text) != std::string::npos) {
        return true;
      }
      std::this_thread::sleep_for(milliseconds(100));
    }
    return false;
  }
  TempDir dir_;
};

TEST_F(ServeSighupTest, SighupRereadsTheWebConfigAndKeepsServing) {
  const std::string config = dir_.file("web.yml");
  write_file(config, "basic_auth_users:\n  prometheus: " + bcrypt_hash("secret") + "\n");
  HttpOptions credentials;
  credentials.user = "prometheus";
  credentials.password = "secret";
  ServeProcess serve(dir_, "serve", {"--web.config.file", config}, "http://127.0.0.1:19209",
                     credentials);
  ASSERT_EQ(::kill(serve.pid(), SIGHUP), 0);
  EXPECT_TRUE(wait_for_log(serve, "re-read and valid")) << serve.log();

  write_file(config, "basic_auth_users: [\n");
  ASSERT_EQ(::kill(serve.pid(), SIGHUP), 0);
  EXPECT_TRUE(wait_for_log(serve, "keeping the one in use")) << serve.log();

  EXPECT_EQ(http_get(serve.base(), "/metrics", credentials).status, 200) << serve.log();
  EXPECT_EQ(http_get(serve.base(), "/metrics").status, 401) << serve.log();
  EXPECT_EQ(serve.stop(), 0) << serve.log();
}

}  // namespace
}  // namespace ephport::lab
