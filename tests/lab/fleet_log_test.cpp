// `ephport log --computers` against real `ephport serve` instances: three
// named namespaces, each with its own range and population and its own
// serve (--netns, TLS, basic auth) listening in the test's namespace; one of
// them stopped, and one endpoint that accepts connections and never answers.
// The combined log has the live hosts' rows, one unreachable row for each
// other, and is written within the timeout.

#include <unistd.h>

#include <chrono>

#include "lab_support.h"
#include "netns_holder.h"
#include "serve_support.h"

namespace ephport::lab {
namespace {

using namespace std::chrono_literals;

// A population of `connections` to 127.0.0.1:9090 in a range of `size`
// ports from `first`.
NetnsHolder::Setup population(uint16_t first, uint16_t size, int connections) {
  return [=](Lab& lab) {
    lab.set_range(first, static_cast<uint16_t>(first + size - 1));
    lab.listen("127.0.0.1", 9090);
    lab.connect("127.0.0.1", "127.0.0.1", 9090, connections);
    return std::to_string(connections);
  };
}

std::string host_name() {
  char name[256] = {};
  ::gethostname(name, sizeof(name) - 1);
  return name;
}

// CSV rows (after the header) split into cells; the log's cells have no
// commas or quotes.
std::vector<std::vector<std::string>> csv_rows(const std::string& text) {
  std::vector<std::vector<std::string>> rows;
  std::vector<std::string> lines = split_lines(text);
  for (size_t i = 1; i < lines.size(); ++i) {
    std::vector<std::string> cells;
    std::string cell;
    for (char c : lines[i]) {
      if (c == ',') {
        cells.push_back(cell);
        cell.clear();
      } else {
        cell += c;
      }
    }
    cells.push_back(cell);
    rows.push_back(cells);
  }
  return rows;
}

constexpr size_t kComputer = 0;
constexpr size_t kLocalAddress = 2;
constexpr size_t kInUse = 3;
constexpr size_t kMax = 4;
constexpr size_t kProto = 8;

class FleetLogTest : public LabTest {};

TEST_F(FleetLogTest, LiveHostsRowsAndUnreachableOnesWithinTheTimeout) {
  TempDir dir;
  TestCertificates certs = make_certificates(dir);
  write_file(dir.file("web.yml"),
             "tls_server_config:\n  cert_file: " + certs.server_cert +
                 "\n  key_file: " + certs.server_key +
                 "\nbasic_auth_users:\n  prometheus: " + bcrypt_hash("s3cret") + "\n");
  write_file(dir.file("auth"), "prometheus:s3cret\n");
  write_file(dir.file("wrong-auth"), "prometheus:guess\n");

  const std::string pid = std::to_string(::getpid());
  NamedNetns a("ephport-fleet-a-" + pid);
  NamedNetns b("ephport-fleet-b-" + pid);
  NamedNetns c("ephport-fleet-c-" + pid);
  NetnsHolder holder_a(a.path(), population(41000, 30, 7));
  NetnsHolder holder_b(b.path(), population(42000, 40, 12));
  NetnsHolder holder_c(c.path(), population(43000, 50, 1));
  holder_a.wait_ready();
  holder_b.wait_ready();
  holder_c.wait_ready();

  HttpOptions client;
  client.ca_file = certs.ca_cert;
  client.user = "prometheus";
  client.password = "s3cret";
  auto serve = [&](const NamedNetns& netns, const std::string& port) {
    return std::make_unique<ServeProcess>(
        dir, "serve-" + port,
        std::vector<std::string>{"--netns", netns.name(), "--listen", "127.0.0.1:" + port,
                                 "--web.config.file", dir.file("web.yml")},
        "https://127.0.0.1:" + port, client);
  };
  auto serve_a = serve(a, "19201");
  auto serve_b = serve(b, "19202");
  auto serve_c = serve(c, "19203");
  EXPECT_EQ(serve_c->stop(), 0) << "SIGTERM stops serve cleanly\n" << serve_c->log();
  // Accepts connections (the kernel does) and never answers.
  lab().listen("127.0.0.1", 19204);

  const std::string computers = "127.0.0.1:19201,127.0.0.1:19202,127.0.0.1:19203,127.0.0.1:19204";
  // `answered`: whether any host answers; when none does, log --computers
  // still writes every row but exits 1 (issue #11).
  auto log = [&](const std::string& auth, const std::string& ca, const std::string& format,
                 const std::string& output, bool answered = true) {
    auto started = std::chrono::steady_clock::now();
    RunResult run =
        run_ephport({"log", "--computers", computers, "--ca-file", ca, "--auth-file", auth,
                     "--timeout", "2", "--count", "1", "--format", format, "--output", output});
    double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    EXPECT_EQ(run.exit_code, answered ? 0 : 1) << run.err;
    lab_note("log --computers (" + format + ") took " + std::to_string(seconds) + " s");
    // The slow host costs its timeout, not more; the rest is start-up.
    EXPECT_LT(seconds, 3.5) << run.out;
    return run;
  };

  RunResult run = log(dir.file("auth"), certs.ca_cert, "csv", dir.file("fleet.csv"));
  EXPECT_EQ(run.out, read_file(dir.file("fleet.csv")));
  auto rows = csv_rows(run.out);
  int a_rows = 0;
  int b_rows = 0;
  std::vector<std::string> unreachable;
  for (const auto& row : rows) {
    ASSERT_EQ(row.size(), 18u) << "the local log's 17 columns and Status";
    if (row.back() == "ok") {
      EXPECT_EQ(row[kComputer], host_name());
      if (row[kLocalAddress] == "127.0.0.1" && row[kProto] == "tcp") {
        // 7 clients on their own ports in each namespace's range.
        EXPECT_EQ(row[kInUse], row[kMax] == "30" ? "7" : "12");
      }
      a_rows += row[kMax] == "30" ? 1 : 0;
      b_rows += row[kMax] == "40" ? 1 : 0;
    } else {
      unreachable.push_back(row[kComputer] + " " + row.back());
    }
  }
  EXPECT_GE(a_rows, 1) << run.out;
  EXPECT_GE(b_rows, 1) << run.out;
  ASSERT_EQ(unreachable.size(), 2u) << run.out;
  EXPECT_EQ(unreachable[0], "127.0.0.1:19203 unreachable: connection refused");
  EXPECT_EQ(unreachable[1], "127.0.0.1:19204 unreachable: timeout after 2.0 s");

  RunResult wrong = log(dir.file("wrong-auth"), certs.ca_cert, "csv", dir.file("wrong.csv"), false);
  EXPECT_NE(wrong.out.find("127.0.0.1:19201,"), std::string::npos);
  EXPECT_NE(wrong.out.find("unreachable: HTTP 401 (credentials refused)"), std::string::npos)
      << wrong.out;
  EXPECT_EQ(wrong.out.find(",ok\n"), std::string::npos) << wrong.out;

  RunResult untrusted =
      log(dir.file("auth"), certs.other_ca_cert, "csv", dir.file("tls.csv"), false);
  EXPECT_NE(untrusted.out.find("unreachable: TLS: server certificate not trusted"),
            std::string::npos)
      << untrusted.out;

  RunResult jsonl = log(dir.file("auth"), certs.ca_cert, "jsonl", dir.file("fleet.jsonl"));
  std::vector<std::string> lines = split_lines(jsonl.out);
  ASSERT_EQ(lines.size(), 4u) << jsonl.out;
  Json first = Json::parse(lines[0]);
  EXPECT_EQ(first.at("schema"), "ephport.snapshot/1");
  EXPECT_EQ(first.at("remote").at("endpoint"), "127.0.0.1:19201");
  EXPECT_EQ(first.at("protocols").at("tcp").at("capacity"), 30);
  Json third = Json::parse(lines[2]);
  EXPECT_EQ(third.at("schema"), "ephport.remote-error/1");
  EXPECT_EQ(third.at("remote").at("error"), "connection refused");

  EXPECT_EQ(serve_a->stop(), 0) << serve_a->log();
  EXPECT_EQ(serve_b->stop(), 0) << serve_b->log();
}

TEST_F(FleetLogTest, OptionsAreChecked) {
  TempDir dir;
  write_file(dir.file("ca"), "not a certificate\n");
  struct Case {
    std::vector<std::string> args;
    std::string says;
  };
  std::vector<Case> cases = {
      {{"--computers", "127.0.0.1"}, "--computers: '127.0.0.1' has no :PORT"},
      {{"--computers", "127.0.0.1:1", "--ca-file", dir.file("ca")}, "no PEM certificate"},
      {{"--computers", "127.0.0.1:1", "--auth-file", dir.file("absent")}, "--auth-file"},
      {{"--computers", "127.0.0.1:1", "--netns", "x"}, "--netns samples this host"},
      {{"--timeout", "2"}, "--timeout applies to --computers only"},
  };
  for (const Case& c : cases) {
    std::vector<std::string> args = {"log", "--count", "1", "--output", dir.file("log")};
    args.insert(args.end(), c.args.begin(), c.args.end());
    SCOPED_TRACE(c.says);
    RunResult run = run_ephport(args);
    EXPECT_EQ(run.exit_code, 2) << run.err;
    EXPECT_EQ(line_count(run.err), 1u) << run.err;
    EXPECT_NE(run.err.find(c.says), std::string::npos) << run.err;
  }
}

}  // namespace
}  // namespace ephport::lab
