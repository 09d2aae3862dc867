// The hostile inputs of issue #12 against the real binary: each is exit 2
// and one short line on stderr, without a control character, where it was a
// SIGSEGV, "internal error" exit 1, a 10 MB message or a hung start-up.
// (The functions: tests/unit/hostile_input_test.cpp; the inputs:
// tests/fixtures/hostile/README.md, written here again as the lab has no
// fixture path.)

#include <gtest/gtest.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <string>

#include "lab_support.h"

namespace ephport::lab {
namespace {

void expect_one_short_line(const RunResult& run, const std::string& starts_with) {
  EXPECT_EQ(run.exit_code, 2) << run.err.substr(0, 300);
  EXPECT_EQ(line_count(run.err), 1u) << run.err.substr(0, 300);
  EXPECT_LE(run.err.size(), 400u) << run.err.substr(0, 300);
  for (size_t i = 0; i + 1 < run.err.size(); ++i) {
    const auto c = static_cast<unsigned char>(run.err[i]);
    EXPECT_FALSE(c < 0x20 || c == 0x7F) << "control character at " << i << ": " << run.err;
  }
  EXPECT_EQ(run.err.rfind("ephport: " + starts_with, 0), 0u) << run.err.substr(0, 300);
}

TEST(HostileInputLab, AnalyzeRefusesEachInOneLine) {
  TempDir dir;
  const std::string header = R"({"schema":"ephport.capture/1","host":)";
  const struct {
    const char* name;
    std::string content;
  } cases[] = {
      {"deep.jsonl", header + std::string(70000, '[') + std::string(70000, ']') + "}\n"},
      {"overflow.jsonl", "{\"schema\":1e999}\n"},
      {"long.jsonl", "{\"schema\":\"" + std::string(10'000'000, 'x') + "\"}\n"},
      {"escape.jsonl", "{\"schema\":\"\x1b[2J\x1b[31mred\r\nforged line\"}\n"},
  };
  for (const auto& each : cases) {
    SCOPED_TRACE(each.name);
    const std::string path = dir.file(each.name);
    std::ofstream(path, std::ios::binary) << each.content;
    expect_one_short_line(run_ephport({"analyze", path}), path + ":1: ");
  }
}

// Peak memory of `ephport analyze /dev/zero`, from wait4(): the line limit
// (4 MiB) bounds it; it grew to 2 GB before.
TEST(HostileInputLab, AnalyzeDevZeroStopsAtTheLineLimitWithBoundedMemory) {
  const pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    std::freopen("/dev/null", "w", stderr);
    ::execl(EPHPORT_BINARY, EPHPORT_BINARY, "analyze", "/dev/zero", nullptr);
    ::_exit(127);
  }
  int status = 0;
  rusage usage{};
  ASSERT_EQ(::wait4(child, &status, 0, &usage), child);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 2);
  EXPECT_LT(usage.ru_maxrss, 256L * 1024) << "KiB";  // 19 MB measured (dev build)
  expect_one_short_line(run_ephport({"analyze", "/dev/zero"}),
                        "/dev/zero:1: line longer than 4194304 bytes");
}

TEST(HostileInputLab, ServeRefusesABadWebConfigInOneLine) {
  TempDir dir;
  const std::string hash = "A3Ck1kDLXN0Y6UvFyc5vq..R8/Am8J3gpEIC8FkgiXuXByiJ4Vkc.";
  const struct {
    const char* name;
    std::string content;
    const char* says;
  } cases[] = {
      {"duplicate.yml",
       "basic_auth_users:\n  a: \"$2y$05$" + hash + "\"\nbasic_auth_users:\n  b: x\n",
       "basic_auth_users: duplicate key"},
      {"cost31.yml", "basic_auth_users:\n  p: \"$2b$31$" + hash + "\"\n",
       "basic_auth_users.p: bcrypt cost 31 is above 14"},
  };
  for (const auto& each : cases) {
    SCOPED_TRACE(each.name);
    const std::string path = dir.file(each.name);
    std::ofstream(path) << each.content;
    const RunResult run =
        run_ephport({"serve", "--listen", "127.0.0.1:0", "--web.config.file", path});
    expect_one_short_line(run, "--web.config.file " + path + ": " + each.says);
  }
  const RunResult directory =
      run_ephport({"serve", "--listen", "127.0.0.1:0", "--web.config.file", dir.path()});
  expect_one_short_line(directory, "--web.config.file " + dir.path() + ": is a directory");
}

}  // namespace
}  // namespace ephport::lab
