#pragma once
// `log --computers`: pulls /api/v1/snapshot from remote `ephport serve`
// instances, all in parallel, each within its own timeout, and reads the
// documents (snapshot_document.h). HTTPS by default, the server's
// certificate verified against --ca-file (else the system's trust store)
// and its host name or IP address; plain HTTP only for an endpoint written
// http://HOST:PORT. Basic auth from --auth-file.
//
// One host never holds up the others: pull() returns at the latest when the
// timeout has passed since it started, with a result for every endpoint.
// A host that failed gets its reason (connection refused, timeout after
// 2.0 s, TLS: certificate verify failed, HTTP 401 ...). A request still
// running at the deadline is left to finish in its own thread; until it has,
// the next pull() reports that host as busy instead of piling up requests.
// Threads: one per endpoint and pull.

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "analyze/analysis.h"
#include "util/host_port.h"

namespace ephport {

struct RemoteEndpoint {
  std::string text;  // as given, for the log
  bool tls = true;
  HostPort address;
};

// [https://|http://]HOST:PORT[/]; throws InputError naming `what`.
RemoteEndpoint parse_remote_endpoint(std::string_view text, const std::string& what);
// Comma-separated endpoints; at least one.
std::vector<RemoteEndpoint> parse_remote_endpoints(std::string_view list, const std::string& what);

struct RemoteCredentials {
  std::string user;
  std::string password;
};

// The first line of `path`, "user:password"; throws InputError.
RemoteCredentials read_auth_file(const std::string& path);
// Throws InputError unless `path` holds at least one PEM certificate.
void check_ca_file(const std::string& path);

struct RemoteOptions {
  std::string ca_file;  // "" = the system's trust store
  std::optional<RemoteCredentials> credentials;
  std::chrono::milliseconds timeout{5000};
  size_t max_document_bytes = size_t{64} << 20;
};

struct RemoteSample {
  RemoteEndpoint endpoint;
  std::optional<Analysis> analysis;  // empty: unreachable, see error
  std::string document;              // the JSON text received, when analysis is set
  std::string error;
  std::chrono::system_clock::time_point asked;  // when the request started
};

class RemoteSnapshots {
 public:
  RemoteSnapshots(std::vector<RemoteEndpoint> endpoints, RemoteOptions options);
  ~RemoteSnapshots();  // waits for requests still running
  RemoteSnapshots(const RemoteSnapshots&) = delete;
  RemoteSnapshots& operator=(const RemoteSnapshots&) = delete;

  // One sample per endpoint, in the order given.
  std::vector<RemoteSample> pull();

 private:
  struct Job;
  struct Slot {
    RemoteEndpoint endpoint;
    std::shared_ptr<Job> job;
    std::thread thread;
  };

  RemoteOptions options_;
  std::vector<Slot> slots_;
};

// Why a host answered with another status than 200: "HTTP 500: <the body's
// first line>", that line escaped and cut to 200 bytes (util/escape.h).
std::string http_error_text(int status, const std::string& body, bool credentials_sent);

// One request, in the calling thread, answering by `deadline` at the latest
// (plus the time a connect() refused by the host takes to say so). For
// tests and for the threads of pull().
RemoteSample fetch_remote_snapshot(const RemoteEndpoint& endpoint, const RemoteOptions& options,
                                   std::chrono::steady_clock::time_point deadline);

}  // namespace ephport
