#pragma once
// Support for the tests of `ephport serve` and `log --computers`: child
// processes with their output in a file (ephport serve, prometheus), an
// HTTP(S) client, certificates made with the openssl CLI, bcrypt hashes, and
// a real Prometheus server with its own config and storage.
//
// Outside tools (prometheus, promtool, openssl) are required: a missing one
// throws, so the test fails saying which package to install (never skips).
// Every wait is bounded.

#include <httplib.h>
#include <sys/types.h>

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "lab_support.h"

namespace ephport::lab {

// The full path of `tool` on PATH; throws naming the Debian package if absent.
std::string require_tool(const std::string& tool, const std::string& package);

struct ProgramResult {
  int exit_code = -1;
  std::string out;  // stdout and stderr together
};

// Runs argv[0] (a path) with `input` on stdin; waits at most `timeout`.
ProgramResult run_program(const std::vector<std::string>& argv, const std::string& input = "",
                          std::chrono::milliseconds timeout = std::chrono::seconds(30));

// A started program whose stdout and stderr go to `log_path`. Its file
// descriptors other than 0-2 are closed, so it holds none of the test's
// sockets. Destruction sends SIGTERM, then SIGKILL after 5 s.
class ChildProcess {
 public:
  ChildProcess(const std::vector<std::string>& argv, std::string log_path);
  ~ChildProcess();
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;

  pid_t pid() const { return pid_; }
  bool running();
  // SIGTERM, then waits at most `timeout` (SIGKILL after it); the exit code,
  // 128 + signal when killed by one.
  int stop(std::chrono::milliseconds timeout = std::chrono::seconds(10));
  std::string log() const;

 private:
  pid_t pid_ = -1;
  std::optional<int> status_;
  std::string log_path_;
};

struct HttpOptions {
  std::string ca_file;  // https: trust this CA ("" = the system's)
  std::string user;     // basic auth when not empty
  std::string password;
  std::string client_cert;  // https: present this certificate
  std::string client_key;
  std::chrono::milliseconds timeout{5000};
};

struct HttpAnswer {
  int status = 0;     // 0: no answer, see error
  std::string error;  // cpp-httplib's error name
  std::string body;
  httplib::Headers headers;
};

// GET base + path; base is http://HOST:PORT or https://HOST:PORT.
HttpAnswer http_get(const std::string& base, const std::string& path,
                    const HttpOptions& options = {});
// GET with query parameters (URL-encoded).
HttpAnswer http_get(const std::string& base, const std::string& path, const httplib::Params& params,
                    const HttpOptions& options);

// `ephport serve <args>` with its log in `dir`, ready once `base`/healthz
// answers 200 (10 s at most; throws with the log otherwise).
class ServeProcess {
 public:
  ServeProcess(const TempDir& dir, const std::string& name, const std::vector<std::string>& args,
               std::string base, const HttpOptions& probe = {});
  const std::string& base() const { return base_; }
  int stop() { return process_.stop(); }
  std::string log() const { return process_.log(); }
  pid_t pid() const { return process_.pid(); }

 private:
  std::string base_;
  ChildProcess process_;
};

// A CA, a server certificate for 127.0.0.1 and ::1 and a client certificate,
// both signed by the CA, made with the openssl CLI (EC P-256, one day).
struct TestCertificates {
  std::string ca_cert;
  std::string server_cert;
  std::string server_key;
  std::string client_cert;
  std::string client_key;
  std::string other_ca_cert;  // a second CA that signed nothing of these
};
TestCertificates make_certificates(const TempDir& dir);

// A bcrypt ($2y$) hash of `password` made with libcrypt.
std::string bcrypt_hash(const std::string& password, int cost = 5);

// A real Prometheus server (Debian's prometheus package) scraping
// `targets` every second, storage and config in `dir`, listening on
// 127.0.0.1:`port`. `scrape_config_extra` is YAML appended to the job
// (scheme, tls_config, basic_auth), indented by four spaces.
class PrometheusServer {
 public:
  PrometheusServer(const TempDir& dir, const std::vector<std::string>& targets, uint16_t port,
                   const std::string& scrape_config_extra = "");
  // The value of an instant query that returns one sample, nullopt while it
  // returns none.
  std::optional<double> query_one(const std::string& promql);
  // Polls query_one() until it has a value; throws after `timeout`.
  double wait_for(const std::string& promql, std::chrono::seconds timeout);
  std::string log() const { return process_->log(); }

 private:
  std::string base_;
  std::unique_ptr<ChildProcess> process_;
};

// Metric names in an exposition (families of the sample lines).
std::vector<std::string> metric_names(const std::string& exposition);
// Value of the sample line `name{labels}` (labels as written, "" for none).
std::optional<double> metric_value(const std::string& exposition, const std::string& series);

}  // namespace ephport::lab
