// The pieces of serve and log --computers that need no network: HOST:PORT
// parsing, remote endpoints and auth files, the scrape timeout header, and
// the combined log's rows for reachable and unreachable hosts.

#include <gtest/gtest.h>
#include <unistd.h>

#include <cerrno>
#include <nlohmann/json.hpp>

#include "collect_fixtures.h"
#include "fleet/fleet_rows.h"
#include "fleet/remote_snapshots.h"
#include "fleet/snapshot_document.h"
#include "output/csv.h"
#include "output/table.h"
#include "platform/sigpipe_guard.h"
#include "serve/exporter_endpoints.h"
#include "temp_dir.h"
#include "util/error.h"
#include "util/host_port.h"

namespace ephport {
namespace {

using namespace std::chrono_literals;

TEST(HostPort, ParsesV4V6AndNames) {
  HostPort v4 = parse_host_port("127.0.0.1:19209", "--listen");
  EXPECT_EQ(v4.host, "127.0.0.1");
  EXPECT_EQ(v4.port, 19209);
  EXPECT_EQ(v4.str(), "127.0.0.1:19209");
  HostPort v6 = parse_host_port("[::1]:80", "--listen");
  EXPECT_EQ(v6.host, "::1");
  EXPECT_EQ(v6.str(), "[::1]:80");
  EXPECT_EQ(parse_host_port("web-1.example:443", "x").host, "web-1.example");
  EXPECT_EQ(parse_host_port("127.0.0.1:0", "--listen", true).port, 0);
}

TEST(HostPort, RejectsWithTheOptionName) {
  for (const char* text : {"127.0.0.1", "127.0.0.1:", ":80", "127.0.0.1:65536", "127.0.0.1:0",
                           "::1:80", "[::1]80", "[::1", "127.0.0.1:8x"}) {
    SCOPED_TRACE(text);
    try {
      parse_host_port(text, "--listen");
      ADD_FAILURE() << "accepted";
    } catch (const InputError& error) {
      EXPECT_EQ(std::string(error.what()).rfind(std::string("--listen: '") + text + "'", 0), 0u)
          << error.what();
    }
  }
}

TEST(RemoteEndpoint, HttpsUnlessSaidOtherwise) {
  auto endpoints = parse_remote_endpoints("10.0.0.1:19209,https://[::1]:19209/,http://web-1:8080",
                                          "--computers");
  ASSERT_EQ(endpoints.size(), 3u);
  EXPECT_TRUE(endpoints[0].tls);
  EXPECT_EQ(endpoints[0].address.str(), "10.0.0.1:19209");
  EXPECT_TRUE(endpoints[1].tls);
  EXPECT_EQ(endpoints[1].address.host, "::1");
  EXPECT_FALSE(endpoints[2].tls);
  EXPECT_EQ(endpoints[2].text, "http://web-1:8080");
  EXPECT_THROW(parse_remote_endpoints("a:1,,b:2", "--computers"), InputError);
  EXPECT_THROW(parse_remote_endpoints("ftp://a:1", "--computers"), InputError);
  EXPECT_THROW(parse_remote_endpoints("", "--computers"), InputError);
}

TEST(RemoteEndpoint, AuthFileIsUserColonPassword) {
  testing::TempDir dir;
  testing::write_file(dir.file("auth"), "prometheus:pa:ss\n");
  RemoteCredentials credentials = read_auth_file(dir.file("auth"));
  EXPECT_EQ(credentials.user, "prometheus");
  EXPECT_EQ(credentials.password, "pa:ss");
  testing::write_file(dir.file("bad"), "no colon\n");
  EXPECT_THROW(read_auth_file(dir.file("bad")), InputError);
  EXPECT_THROW(read_auth_file(dir.file("absent")), InputError);
  testing::write_file(dir.file("ca"), "not a certificate\n");
  EXPECT_THROW(check_ca_file(dir.file("ca")), InputError);
  EXPECT_THROW(check_ca_file(dir.file("absent")), InputError);
}

TEST(ScrapeWait, PrometheusTimeoutShortensTheWait) {
  EXPECT_EQ(scrape_wait(8000ms, ""), 8000ms);
  EXPECT_EQ(scrape_wait(8000ms, "10"), 8000ms);
  EXPECT_EQ(scrape_wait(8000ms, "3"), 2500ms);
  EXPECT_EQ(scrape_wait(8000ms, "0.5"), 100ms);
  EXPECT_EQ(scrape_wait(8000ms, "junk"), 8000ms);
  EXPECT_EQ(scrape_wait(8000ms, "-1"), 8000ms);
}

TEST(FleetRows, RowsPerAddressPerHostAndOneForAnUnreachableHost) {
  std::string document = testing::read_file(testing::fixture_path("remote/snapshot.json"));
  Analysis analysis = parse_snapshot_document(document);
  std::vector<HostRecord> hosts(2);
  hosts[0].endpoint = "10.0.0.1:19209";
  hosts[0].analysis = &analysis;
  hosts[0].document = &document;
  hosts[1].endpoint = "10.0.0.2:19209";
  hosts[1].error = "connection refused";
  hosts[1].asked = std::chrono::system_clock::time_point(std::chrono::seconds(1764081284));

  EXPECT_EQ(fleet_sheet(hosts, false).columns.back().header, "Status");
  std::string csv = render_csv(fleet_sheet(hosts, false));
  EXPECT_EQ(csv,
            "Computer,DateTime,LocalAddress,#OfEPortsInUse,Max#OfEPorts,%EPortUsage,"
            "#OfTcpListeningPorts,#OfPids,Proto,BindFree,ConnFreeNewDest,TimeWait,"
            "WorstDestination,WorstDest%,Rate/s,ExhaustsIn,TWExpiring,Status\n"
            "vm,2026-11-25T17:39:14Z,127.0.0.1,50,100,50.0,2,1+,tcp,50,50,0,127.0.0.1:8080,"
            "50.0,-,-,-,ok\n"
            "vm,2026-11-25T17:39:14Z,127.0.0.2,8,100,8.0,0,1+,tcp,92,50,3,127.0.0.1:8080,50.0,"
            "-,-,-,ok\n"
            "vm,2026-11-25T17:39:14Z,::1,4,100,4.0,1,1+,tcp,96,50,0,[::1]:8443,50.0,-,-,-,ok\n"
            "vm,2026-11-25T17:39:14Z,127.0.0.1,1,100,1.0,0,1+,udp,99,-,0,-,-,-,-,-,ok\n"
            "10.0.0.2:19209,2025-11-25T14:34:44Z,-,-,-,-,-,-,-,-,-,-,-,-,-,-,-,"
            "unreachable: connection refused\n");

  std::string table = render_table(fleet_sheet(hosts, true)) + "\n";
  EXPECT_NE(table.find("Status"), std::string::npos) << table;
  EXPECT_NE(table.find("unreachable: connection refused"), std::string::npos) << table;

  std::string jsonl = render_fleet_jsonl(hosts);
  auto newline = jsonl.find('\n');
  auto first = nlohmann::json::parse(jsonl.substr(0, newline));
  auto second = nlohmann::json::parse(jsonl.substr(newline + 1));
  EXPECT_EQ(first["schema"], "ephport.snapshot/1");
  EXPECT_EQ(first["computer"], "vm");
  EXPECT_EQ(first["remote"]["status"], "ok");
  EXPECT_EQ(first["remote"]["endpoint"], "10.0.0.1:19209");
  EXPECT_EQ(second["schema"], "ephport.remote-error/1");
  EXPECT_TRUE(second["computer"].is_null());
  EXPECT_EQ(second["remote"]["error"], "connection refused");
  EXPECT_EQ(second["time"], "2025-11-25T14:34:44.000Z");
}

// A write to a pipe nobody reads fails with EPIPE instead of killing the
// process, and SIGPIPE is back to what it was afterwards.
TEST(SigpipeGuard, WriteToAClosedPipeFailsInsteadOfKilling) {
  int fds[2];
  ASSERT_EQ(::pipe(fds), 0);
  ::close(fds[0]);
  {
    SigpipeGuard guard;
    errno = 0;
    EXPECT_EQ(::write(fds[1], "x", 1), -1);
    EXPECT_EQ(errno, EPIPE);
  }
  ::close(fds[1]);
  sigset_t mask;
  ASSERT_EQ(pthread_sigmask(SIG_SETMASK, nullptr, &mask), 0);
  EXPECT_EQ(sigismember(&mask, SIGPIPE), 0);
  sigset_t pending;
  ASSERT_EQ(sigpending(&pending), 0);
  EXPECT_EQ(sigismember(&pending, SIGPIPE), 0);
}

}  // namespace
}  // namespace ephport
