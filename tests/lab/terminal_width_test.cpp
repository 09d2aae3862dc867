// The snapshot table on a terminal: ephport runs in a pseudo-terminal
// (forkpty) of 80 and of 200 columns and the screen text is read back.
// Every table line fits, the columns dropped are ephport's before the
// seed's, and one line says --wide shows all. With --wide, or when standard
// output is not a terminal, the table is the full one. `log` fits its
// console lines; its file keeps every column.

#include <poll.h>
#include <pty.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <regex>
#include <string>
#include <vector>

#include "lab_support.h"
#include "serve_support.h"

namespace ephport::lab {
namespace {

constexpr uint16_t kPort = 8080;

// Runs ephport in a pseudo-terminal `columns` wide (0: the kernel reports
// no width, so $COLUMNS decides, set to `columns_env` when not empty) and
// returns what it wrote, "\r\n" turned into "\n". Bounded: 30 s.
std::string run_in_terminal(unsigned short columns, const std::vector<std::string>& args,
                            const std::string& columns_env = "") {
  winsize size{};
  size.ws_row = 50;
  size.ws_col = columns;
  int master = -1;
  pid_t pid = forkpty(&master, nullptr, nullptr, &size);
  if (pid < 0) {
    ADD_FAILURE() << "forkpty failed";
    return "";
  }
  if (pid == 0) {
    std::vector<char*> argv;
    std::string binary = EPHPORT_BINARY;
    argv.push_back(binary.data());
    std::vector<std::string> copies = args;
    for (std::string& arg : copies) {
      argv.push_back(arg.data());
    }
    argv.push_back(nullptr);
    if (columns_env.empty()) {
      unsetenv("COLUMNS");
    } else {
      setenv("COLUMNS", columns_env.c_str(), 1);
    }
    execv(binary.c_str(), argv.data());
    _exit(127);
  }
  std::string out;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (std::chrono::steady_clock::now() < deadline) {
    pollfd ready{master, POLLIN, 0};
    if (poll(&ready, 1, 200) <= 0) {
      continue;
    }
    char buffer[4096];
    ssize_t got = read(master, buffer, sizeof buffer);
    if (got <= 0) {
      break;  // EIO once the child has exited and the terminal is drained
    }
    out.append(buffer, static_cast<size_t>(got));
  }
  close(master);
  int status = 0;
  waitpid(pid, &status, 0);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << out;
  for (size_t at = out.find("\r\n"); at != std::string::npos; at = out.find("\r\n", at)) {
    out.erase(at, 1);
  }
  return out;
}

// The lines of a table (not the notes, which are prose the terminal wraps).
std::vector<std::string> table_lines(const std::string& text) {
  std::vector<std::string> lines;
  for (const std::string& line : split_lines(text)) {
    if (line.rfind("note:", 0) != 0 && line.rfind("Worst TCP destinations", 0) != 0) {
      lines.push_back(line);
    }
  }
  return lines;
}

size_t count_of(const std::string& text, const std::string& what) {
  size_t count = 0;
  for (size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) {
    ++count;
  }
  return count;
}

// The sample time differs from run to run.
std::string without_times(const std::string& text) {
  static const std::regex kTime(R"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ)");
  return std::regex_replace(text, kTime, "TIME");
}

const char* const kNarrowed = "--wide shows all";

class TerminalWidthTest : public LabTest {
 protected:
  void SetUp() override {
    LabTest::SetUp();
    lab().set_range(40000, 40099);
    lab().listen("127.0.0.1", kPort);
    lab().connect("127.0.0.1", "127.0.0.1", kPort, 3);
  }
  const std::vector<std::string> args_ = {"snapshot", "--no-owners", "--bind-state", "estimate"};
};

TEST_F(TerminalWidthTest, EightyColumnsKeepTheSeedsColumnsAndSaySo) {
  const std::string screen = run_in_terminal(80, args_);
  std::printf("%s", screen.c_str());
  for (const std::string& line : table_lines(screen)) {
    EXPECT_LE(line.size(), 80u) << line;
  }
  EXPECT_EQ(count_of(screen, kNarrowed), 1u) << screen;
  const std::string header = split_lines(screen).front();
  // The seed's columns (short headers), Proto; ephport's own dropped.
  for (const char* column : {"Computer", "DateTime", "LocalAddress", "InUse", "Max", "Use%",
                             "Listen", "Pids", "Proto"}) {
    EXPECT_NE(header.find(column), std::string::npos) << column << " in " << header;
  }
  for (const char* column : {"TWExpiring", "TWExp", "Rate/s", "WorstDestination"}) {
    EXPECT_EQ(header.find(column), std::string::npos) << column << " in " << header;
  }
  EXPECT_NE(screen.find("127.0.0.1"), std::string::npos);
}

// The process tables narrow too: who holds how many sockets and ports stays.
TEST_F(TerminalWidthTest, ProcessTablesFitEightyColumns) {
  const std::string screen =
      run_in_terminal(80, {"snapshot", "--processes", "--bind-state", "estimate"});
  std::printf("%s", screen.c_str());
  bool process_header = false;
  for (const std::string& line : table_lines(screen)) {
    if (line.rfind("Processes holding", 0) == 0 || line.rfind("Unowned TCP", 0) == 0) {
      continue;  // section titles are prose
    }
    EXPECT_LE(line.size(), 80u) << line;
    if (line.find("PID") != std::string::npos && line.find("Process") != std::string::npos) {
      process_header = true;
      EXPECT_NE(line.find("Sockets"), std::string::npos) << line;
      EXPECT_NE(line.find("Ports"), std::string::npos) << line;
    }
  }
  EXPECT_TRUE(process_header) << screen;
  EXPECT_EQ(count_of(screen, kNarrowed), 1u) << screen;
}

// log --computers fits its console table too, and keeps each host's Status.
TEST_F(TerminalWidthTest, FleetLogFitsTheConsole) {
  TempDir dir;
  ServeProcess serve(dir, "serve", {}, "http://127.0.0.1:19209");
  const std::string file = dir.file("fleet.log");
  const std::string screen = run_in_terminal(
      80, {"log", "--computers", "http://127.0.0.1:19209", "--count", "1", "--output", file});
  std::printf("%s", screen.c_str());
  const std::vector<std::string> lines = table_lines(screen);
  ASSERT_GE(lines.size(), 3u) << screen;
  for (const std::string& line : lines) {
    EXPECT_LE(line.size(), 80u) << line;
  }
  EXPECT_EQ(lines.front().rfind("Computer", 0), 0u) << "which host: " << lines.front();
  EXPECT_NE(lines.front().find("Status"), std::string::npos) << lines.front();
  EXPECT_NE(screen.find(" ok"), std::string::npos) << screen;
  EXPECT_EQ(count_of(screen, kNarrowed), 1u) << screen;
  // The file keeps every column.
  EXPECT_NE(read_file(file).find("TWExpiring"), std::string::npos);
}

TEST_F(TerminalWidthTest, TwoHundredColumnsFitAndDropLess) {
  const std::string narrow = run_in_terminal(80, args_);
  const std::string screen = run_in_terminal(200, args_);
  for (const std::string& line : table_lines(screen)) {
    EXPECT_LE(line.size(), 200u) << line;
  }
  const std::string header = split_lines(screen).front();
  EXPECT_GT(header.size(), split_lines(narrow).front().size());
  for (const char* column : {"BindFree", "Proto", "LocalAddress"}) {
    EXPECT_NE(header.find(column), std::string::npos) << column << " in " << header;
  }
  // Narrowed or not, as the full table's width asks.
  const RunResult piped = run_ephport(args_);
  size_t widest = 0;
  for (const std::string& line : table_lines(piped.out)) {
    widest = std::max(widest, line.size());
  }
  EXPECT_EQ(count_of(screen, kNarrowed), widest > 200 ? 1u : 0u) << "widest " << widest;
}

TEST_F(TerminalWidthTest, WideOrNotATerminalPrintsEveryColumn) {
  const RunResult piped = run_ephport(args_);
  ASSERT_EQ(piped.exit_code, 0) << piped.err;
  EXPECT_EQ(count_of(piped.out, kNarrowed), 0u);
  EXPECT_NE(piped.out.find("#OfTcpListeningPorts"), std::string::npos);
  EXPECT_NE(piped.out.find("TWExpiring"), std::string::npos);
  std::vector<std::string> wide_args = args_;
  wide_args.push_back("--wide");
  const std::string wide = run_in_terminal(80, wide_args);
  EXPECT_EQ(without_times(wide), without_times(piped.out));
}

TEST_F(TerminalWidthTest, WithoutAWindowSizeColumnsDecides) {
  const std::string screen = run_in_terminal(0, args_, "80");
  for (const std::string& line : table_lines(screen)) {
    EXPECT_LE(line.size(), 80u) << line;
  }
  EXPECT_EQ(count_of(screen, kNarrowed), 1u) << screen;
  // No size and no $COLUMNS: nothing to fit.
  const std::string unsized = run_in_terminal(0, args_);
  EXPECT_EQ(count_of(unsized, kNarrowed), 0u) << unsized;
  EXPECT_NE(unsized.find("TWExpiring"), std::string::npos);
}

TEST_F(TerminalWidthTest, LogFitsTheConsoleAndKeepsTheFileWhole) {
  TempDir dir;
  const std::string file = dir.file("log.txt");
  const std::string screen =
      run_in_terminal(80, {"log", "--count", "2", "--interval", "0.2", "--output", file,
                           "--no-owners", "--no-evidence", "--bind-state", "estimate"});
  for (const std::string& line : table_lines(screen)) {
    EXPECT_LE(line.size(), 80u) << line;
  }
  EXPECT_EQ(count_of(screen, kNarrowed), 1u) << screen;  // under the first sample only
  EXPECT_EQ(count_of(screen, "LocalAddress"), 2u) << screen;
  const std::string logged = read_file(file);
  EXPECT_EQ(count_of(logged, "TWExpiring"), 2u) << logged;
  EXPECT_EQ(count_of(logged, kNarrowed), 0u) << logged;
}

}  // namespace
}  // namespace ephport::lab
