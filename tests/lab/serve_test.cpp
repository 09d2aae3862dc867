// `ephport serve` with real parts: a real Prometheus scraping it over HTTPS
// with basic auth, promtool on its /metrics, TLS with certificates made by
// the openssl CLI, basic auth answers, 50 parallel scrapes sharing
// collections, the series bound at 10 000 destinations, and start-up
// validation. Each test runs in a private network namespace (LabTest), so
// fixed ports never collide.

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/resource.h>
#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <latch>
#include <thread>

#include "lab_support.h"
#include "serve_support.h"

namespace ephport::lab {
namespace {

using namespace std::chrono_literals;

constexpr const char* kServe = "http://127.0.0.1:19209";

class ServeTest : public LabTest {
 protected:
  // 60 connections from 127.0.0.2 to 127.0.0.1:8080 (connect()-chosen ports,
  // none owned by bind()) in a range of 100: pressure 60 %, whatever the
  // test's own HTTP connections (from 127.0.0.1) add on 127.0.0.1.
  void build_population() {
    lab().set_range(40000, 40099);
    lab().listen("127.0.0.1", 8080);
    lab().connect("127.0.0.2", "127.0.0.1", 8080, 60);
    lab().listen("::1", 8443);
    lab().connect("::1", "::1", 8443, 3);
    lab().udp_connect("127.0.0.1", 5353);
  }

  // Each call writes a new file: cases built together keep their own.
  std::string web_config(const std::string& yaml) {
    std::string path = dir_.file("web-" + std::to_string(++configs_) + ".yml");
    write_file(path, yaml);
    return path;
  }

  TempDir dir_;
  int configs_ = 0;
};

// The figure Prometheus stores is the figure ephport reports.
TEST_F(ServeTest, PrometheusStoresWhatTheSnapshotSays) {
  build_population();
  TestCertificates certs = make_certificates(dir_);
  std::string hash = bcrypt_hash("s3cret");
  std::string config = web_config("tls_server_config:\n  cert_file: " + certs.server_cert +
                                  "\n  key_file: " + certs.server_key +
                                  "\nbasic_auth_users:\n  prometheus: " + hash + "\n");
  HttpOptions client;
  client.ca_file = certs.ca_cert;
  client.user = "prometheus";
  client.password = "s3cret";
  ServeProcess serve(dir_, "serve", {"--web.config.file", config}, "https://127.0.0.1:19209",
                     client);
  PrometheusServer prometheus(dir_, {"127.0.0.1:19209"}, 19090,
                              "    scheme: https\n"
                              "    tls_config:\n"
                              "      ca_file: " +
                                  certs.ca_cert +
                                  "\n"
                                  "    basic_auth:\n"
                                  "      username: prometheus\n"
                                  "      password: s3cret\n");

  double stored = prometheus.wait_for(R"(ephport_pressure_ratio{protocol="tcp"})", 60s);
  HttpAnswer snapshot = http_get(serve.base(), "/api/v1/snapshot", client);
  ASSERT_EQ(snapshot.status, 200) << snapshot.error << snapshot.body;
  double percent = Json::parse(snapshot.body).at("protocols").at("tcp").at("pressure_percent");
  // pressure_percent has two decimals: the ratio agrees to half of 0.0001.
  EXPECT_NEAR(stored, percent / 100, 0.00005);
  EXPECT_DOUBLE_EQ(stored, 0.6) << "the population is 60 of 100 ports to one destination";
  EXPECT_EQ(prometheus.wait_for(R"(up{job="ephport"})", 10s), 1.0);
  EXPECT_EQ(prometheus.wait_for(R"(ephport_scrape_success{job="ephport"})", 10s), 1.0);
  EXPECT_EQ(prometheus.wait_for(R"(ephport_capacity_ports{protocol="tcp"})", 10s), 100.0);
  EXPECT_EQ(
      prometheus.wait_for(
          R"(ephport_destination_ports_in_use{local_address="127.0.0.2",remote_port="8080"})", 10s),
      60.0);
  lab_note("prometheus stored ephport_pressure_ratio{protocol=\"tcp\"} " + std::to_string(stored) +
           ", snapshot pressure_percent " + std::to_string(percent));
  EXPECT_EQ(serve.stop(), 0) << serve.log();
}

TEST_F(ServeTest, MetricsPassPromtoolAndNoNameSaysPercent) {
  std::string promtool = require_tool("promtool", "prometheus");
  build_population();
  ServeProcess serve(dir_, "serve", {}, kServe);  // the default address
  HttpAnswer metrics = http_get(serve.base(), "/metrics");
  ASSERT_EQ(metrics.status, 200) << metrics.error;
  auto type = metrics.headers.find("Content-Type");
  ASSERT_NE(type, metrics.headers.end());
  EXPECT_EQ(type->second, "text/plain; version=0.0.4; charset=utf-8");
  ProgramResult check = run_program({promtool, "check", "metrics"}, metrics.body);
  EXPECT_EQ(check.exit_code, 0) << check.out << "\n" << metrics.body;
  EXPECT_EQ(check.out, "") << "promtool found problems";
  std::vector<std::string> names = metric_names(metrics.body);
  EXPECT_GT(names.size(), 50u);
  for (const std::string& name : names) {
    EXPECT_EQ(name.find("percent"), std::string::npos) << name << ": ratios are 0..1, named _ratio";
    EXPECT_EQ(name.rfind("ephport_", 0), 0u) << name;
  }
  EXPECT_EQ(metric_value(metrics.body,
                         R"(ephport_local_address_ports_in_use{protocol="tcp",address="::1"})"),
            3.0);
  EXPECT_EQ(metric_value(metrics.body, "ephport_scrape_success"), 1.0);

  HttpAnswer index = http_get(serve.base(), "/");
  EXPECT_EQ(index.status, 200);
  EXPECT_NE(index.body.find("href=\"metrics\""), std::string::npos) << index.body;
  EXPECT_EQ(http_get(serve.base(), "/nope").status, 404);
  EXPECT_EQ(serve.stop(), 0) << serve.log();
}

TEST_F(ServeTest, TlsVerifiedByTheClientOverIpv4AndIpv6) {
  build_population();
  TestCertificates certs = make_certificates(dir_);
  std::string config = web_config("tls_server_config:\n  cert_file: " + certs.server_cert +
                                  "\n  key_file: " + certs.server_key + "\n  min_version: TLS12\n");
  HttpOptions trusted;
  trusted.ca_file = certs.ca_cert;
  ServeProcess v4(dir_, "serve-v4", {"--listen", "127.0.0.1:19209", "--web.config.file", config},
                  "https://127.0.0.1:19209", trusted);
  ServeProcess v6(dir_, "serve-v6", {"--listen", "[::1]:19210", "--web.config.file", config},
                  "https://[::1]:19210", trusted);
  for (const ServeProcess* serve : {&v4, &v6}) {
    SCOPED_TRACE(serve->base());
    HttpAnswer metrics = http_get(serve->base(), "/metrics", trusted);
    EXPECT_EQ(metrics.status, 200) << metrics.error;
    EXPECT_EQ(metric_value(metrics.body, "ephport_scrape_success"), 1.0);

    HttpOptions other;
    other.ca_file = certs.other_ca_cert;
    HttpAnswer untrusted = http_get(serve->base(), "/metrics", other);
    EXPECT_EQ(untrusted.status, 0);
    EXPECT_EQ(untrusted.error, "SSLServerVerification");
  }
  // Plain HTTP to the TLS port gets no answer.
  EXPECT_EQ(http_get("http://127.0.0.1:19209", "/metrics").status, 0);
  EXPECT_EQ(v4.stop(), 0) << v4.log();
  EXPECT_EQ(v6.stop(), 0) << v6.log();
}

TEST_F(ServeTest, ClientCertificatesRequiredAndVerified) {
  build_population();
  TestCertificates certs = make_certificates(dir_);
  std::string config = web_config(
      "tls_server_config:\n  cert_file: " + certs.server_cert +
      "\n  key_file: " + certs.server_key +
      "\n  client_auth_type: RequireAndVerifyClientCert\n  client_ca_file: " + certs.ca_cert +
      "\n");
  HttpOptions with_cert;
  with_cert.ca_file = certs.ca_cert;
  with_cert.client_cert = certs.client_cert;
  with_cert.client_key = certs.client_key;
  ServeProcess serve(dir_, "serve", {"--web.config.file", config}, "https://127.0.0.1:19209",
                     with_cert);
  EXPECT_EQ(http_get(serve.base(), "/metrics", with_cert).status, 200);
  HttpOptions without = with_cert;
  without.client_cert.clear();
  without.client_key.clear();
  HttpAnswer refused = http_get(serve.base(), "/metrics", without);
  EXPECT_EQ(refused.status, 0) << "answered without a client certificate";
  EXPECT_EQ(serve.stop(), 0) << serve.log();
}

TEST_F(ServeTest, BasicAuthAnswers) {
  build_population();
  std::string config = web_config("basic_auth_users:\n  prometheus: " + bcrypt_hash("s3cret") +
                                  "\n  ops: " + bcrypt_hash("other") + "\n");
  HttpOptions right;
  right.user = "prometheus";
  right.password = "s3cret";
  ServeProcess serve(dir_, "serve", {"--web.config.file", config}, kServe, right);

  auto expect_401 = [&](const HttpOptions& options, const std::string& what) {
    SCOPED_TRACE(what);
    HttpAnswer answer = http_get(serve.base(), "/metrics", options);
    EXPECT_EQ(answer.status, 401) << answer.error;
    auto challenge = answer.headers.find("WWW-Authenticate");
    ASSERT_NE(challenge, answer.headers.end());
    EXPECT_EQ(challenge->second, "Basic realm=\"ephport\"");
    EXPECT_EQ(answer.body.find("ephport_"), std::string::npos) << "no metrics without auth";
  };
  expect_401({}, "no credentials");
  HttpOptions wrong = right;
  wrong.password = "S3cret";
  expect_401(wrong, "wrong password");
  HttpOptions unknown = right;
  unknown.user = "mallory";
  expect_401(unknown, "unknown user");
  HttpOptions other_users_password = right;
  other_users_password.password = "other";
  expect_401(other_users_password, "another user's password");

  for (const char* path : {"/metrics", "/api/v1/snapshot", "/", "/healthz"}) {
    EXPECT_EQ(http_get(serve.base(), path, right).status, 200) << path;
  }
  HttpOptions ops;
  ops.user = "ops";
  ops.password = "other";
  EXPECT_EQ(http_get(serve.base(), "/api/v1/snapshot", ops).status, 200);
  EXPECT_EQ(serve.stop(), 0) << serve.log();
}

struct ParallelRound {
  int ok = 0;
  uint64_t collections = 0;  // collections the round caused
  double seconds = 0;
};

// `requests` scrapes started together; ok counts 200s with scrape_success 1.
ParallelRound scrape_in_parallel(const std::string& base, int requests) {
  auto collections_now = [&] {
    HttpAnswer answer = http_get(base, "/metrics");
    return metric_value(answer.body, "ephport_collections_total").value_or(-1);
  };
  double before = collections_now();
  // Past --collection.max-age (1 s by default): the round has to collect.
  std::this_thread::sleep_for(1200ms);
  std::latch start(requests + 1);
  std::vector<HttpAnswer> answers(static_cast<size_t>(requests));
  std::vector<std::thread> threads;
  threads.reserve(static_cast<size_t>(requests));
  for (int i = 0; i < requests; ++i) {
    threads.emplace_back([&, i] {
      start.arrive_and_wait();
      HttpOptions options;
      options.timeout = 20s;
      answers[static_cast<size_t>(i)] = http_get(base, "/metrics", options);
    });
  }
  auto started = std::chrono::steady_clock::now();
  start.arrive_and_wait();
  for (std::thread& thread : threads) {
    thread.join();
  }
  ParallelRound round;
  round.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  double after = before;
  for (const HttpAnswer& answer : answers) {
    if (answer.status == 200 && metric_value(answer.body, "ephport_scrape_success") == 1.0) {
      ++round.ok;
    }
    after = std::max(after, metric_value(answer.body, "ephport_collections_total").value_or(0));
  }
  round.collections = static_cast<uint64_t>(after - before);
  return round;
}

TEST_F(ServeTest, FiftyParallelScrapesShareCollections) {
  lab().set_range(40000, 44999);  // room for the test's own connections
  lab().listen("127.0.0.1", 8080);
  lab().connect("127.0.0.2", "127.0.0.1", 8080, 1000);
  // Default reuse (1 s), and none at all: single flight alone still shares.
  ServeProcess reuse(dir_, "serve-reuse", {"--no-owners"}, kServe);
  ServeProcess single(dir_, "serve-single",
                      {"--no-owners", "--listen", "127.0.0.1:19210", "--collection.max-age", "0"},
                      "http://127.0.0.1:19210");
  for (const ServeProcess* serve : {&reuse, &single}) {
    SCOPED_TRACE(serve->base());
    ParallelRound round = scrape_in_parallel(serve->base(), 50);
    EXPECT_EQ(round.ok, 50);
    EXPECT_GE(round.collections, 1u);
    EXPECT_LT(round.collections, 50u) << "every scrape collected on its own";
    lab_note(serve->base() + " | 50 parallel scrapes | " + std::to_string(round.ok) + " ok | " +
             std::to_string(round.collections) + " collections | " + std::to_string(round.seconds) +
             " s");
  }
  EXPECT_EQ(reuse.stop(), 0) << reuse.log();
  EXPECT_EQ(single.stop(), 0) << single.log();
}

// 10 000 destinations (127.0.0.1 to 10 000 loopback addresses, left in four
// listeners' accept queues): the exposition stays within the top-N bounds.
TEST_F(ServeTest, TenThousandDestinationsBoundedSeries) {
  constexpr int kDestinations = 10000;
  rlimit files{};
  ASSERT_EQ(::getrlimit(RLIMIT_NOFILE, &files), 0);
  files.rlim_cur = files.rlim_max;
  ASSERT_EQ(::setrlimit(RLIMIT_NOFILE, &files), 0);
  ASSERT_GE(files.rlim_cur, static_cast<rlim_t>(kDestinations + 200))
      << "this test holds 10 000 sockets: raise the hard RLIMIT_NOFILE";
  lab().set_range(20000, 60999);
  std::vector<UniqueFd> sockets;
  constexpr int kListeners = 4;
  for (int l = 0; l < kListeners; ++l) {
    UniqueFd fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(static_cast<uint16_t>(80 + l));
    ASSERT_EQ(::bind(fd.get(), reinterpret_cast<sockaddr*>(&address), sizeof(address)), 0);
    ASSERT_EQ(::listen(fd.get(), 4096), 0);
    sockets.push_back(std::move(fd));
  }
  for (int i = 0; i < kDestinations; ++i) {
    UniqueFd fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(static_cast<uint16_t>(80 + i % kListeners));
    address.sin_addr.s_addr = htonl(0x7f000000u | static_cast<uint32_t>(1 + i / kListeners) << 8 |
                                    static_cast<uint32_t>(1 + i % 250));
    ASSERT_EQ(::connect(fd.get(), reinterpret_cast<sockaddr*>(&address), sizeof(address)), 0)
        << "connection " << i << ": " << std::strerror(errno);
    sockets.push_back(std::move(fd));
  }
  ServeProcess serve(dir_, "serve", {"--collection.max-age", "0"}, kServe);
  std::vector<double> latencies;
  std::string body;
  for (int i = 0; i < 3; ++i) {
    auto started = std::chrono::steady_clock::now();
    HttpOptions patient;
    patient.timeout = 30s;
    HttpAnswer metrics = http_get(serve.base(), "/metrics", patient);
    latencies.push_back(
        std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count());
    ASSERT_EQ(metrics.status, 200) << metrics.error;
    body = metrics.body;
  }
  std::sort(latencies.begin(), latencies.end());
  EXPECT_EQ(metric_value(body, "ephport_scrape_success"), 1.0);
  EXPECT_GE(metric_value(body, R"(ephport_destinations{protocol="tcp"})").value_or(0),
            kDestinations);
  size_t samples = metric_names(body).size();
  size_t destination_series = 0;
  for (const std::string& name : metric_names(body)) {
    destination_series += name == "ephport_destination_usage_ratio" ? 1 : 0;
  }
  EXPECT_LE(destination_series, 40u) << "20 per protocol";
  EXPECT_LT(samples, 600u);
  lab_note(std::to_string(kDestinations) + " destinations | " + std::to_string(samples) +
           " series | " + std::to_string(body.size()) + " bytes | median scrape " +
           std::to_string(latencies[1]) + " s");
  EXPECT_EQ(serve.stop(), 0) << serve.log();
}

// What is wrong at start is one line on stderr and exit 2 (1 when the
// kernel refuses the port).
TEST_F(ServeTest, BadSettingsStopTheStart) {
  write_file(dir_.file("garbage.crt"), "not a certificate\n");
  write_file(dir_.file("garbage.key"), "not a key\n");
  struct Case {
    std::vector<std::string> args;
    int exit_code;
    std::string says;
  };
  std::vector<Case> cases = {
      {{"--web.config.file", dir_.file("absent.yml")}, 2, "No such file or directory"},
      {{"--web.config.file", web_config("tls_server_config: {}\nbogus: 1\n")},
       2,
       "bogus: unknown key"},
      {{"--web.config.file",
        web_config("tls_server_config: {cert_file: garbage.crt, key_file: garbage.key}\n")},
       2,
       "not a PEM certificate"},
      {{"--web.config.file", web_config("basic_auth_users: {alice: plaintext}\n")},
       2,
       "basic_auth_users.alice: not a bcrypt hash"},
      {{"--listen", "127.0.0.1"}, 2, "--listen: '127.0.0.1' has no :PORT"},
      {{"--listen", "no-such-host.invalid:19209"}, 2, "cannot resolve"},
      {{"--netns", "all"}, 2, "--netns all"},
  };
  for (const Case& c : cases) {
    std::vector<std::string> args = {"serve"};
    args.insert(args.end(), c.args.begin(), c.args.end());
    SCOPED_TRACE(args.back());
    RunResult run = run_ephport(args);
    EXPECT_EQ(run.exit_code, c.exit_code) << run.err;
    EXPECT_EQ(line_count(run.err), 1u) << run.err;
    EXPECT_NE(run.err.find(c.says), std::string::npos) << run.err;
  }
  // A port already taken: the kernel refuses, exit 1.
  lab().listen("127.0.0.1", 19209);
  RunResult taken = run_ephport({"serve"});
  EXPECT_EQ(taken.exit_code, 1) << taken.err;
  EXPECT_NE(taken.err.find("cannot listen on 127.0.0.1:19209: Address already in use"),
            std::string::npos)
      << taken.err;
}

}  // namespace
}  // namespace ephport::lab
