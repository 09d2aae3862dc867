#pragma once
// Support for the lab tests: a private network namespace per test, real
// sockets built into a population, the kernel driven to refusal
// (EADDRNOTAVAIL, EADDRINUSE, EAGAIN), and the ephport binary run as a child.
//
// The kernel is the oracle: a test builds a population, asks ephport what it
// predicts, then makes the real connect()/bind() calls and compares.
//
// Helpers throw std::runtime_error when the system refuses a set-up step
// (gtest reports it as a failure of the running test). Every loop is bounded.

#include <gtest/gtest.h>
#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "temp_dir.h"
#include "util/fd.h"

namespace ephport::lab {

using Json = nlohmann::json;

// --- Addresses -------------------------------------------------------------

// The kernel's text for an address: inet_ntop form, v4-mapped IPv6
// (::ffff:a.b.c.d) shown as IPv4, brackets removed. Throws on bad text.
std::string canonical(std::string_view text);

// --- Network namespace -----------------------------------------------------

// Moves the calling process into a new, private network namespace with `lo`
// up, and back into the original one on destruction. Children started
// afterwards (ephport, ss) inherit the new namespace.
class NetnsGuard {
 public:
  NetnsGuard();
  ~NetnsGuard();
  NetnsGuard(const NetnsGuard&) = delete;
  NetnsGuard& operator=(const NetnsGuard&) = delete;

 private:
  UniqueFd original_;
};

// Brings the loopback interface of the current namespace up.
void bring_loopback_up();

// Writes a sysctl of the current namespace, e.g. "net/ipv4/tcp_tw_reuse".
void write_sysctl(const std::string& name, const std::string& value);
std::string read_sysctl(const std::string& name);

// --- Running ephport -------------------------------------------------------

struct RunResult {
  int exit_code = -1;  // 128 + signal when killed
  std::string out;
  std::string err;
};

// A started ephport child (stdout and stderr captured). Its file descriptors
// other than 0-2 are closed before exec, so it owns none of the test's sockets.
class EphportProcess {
 public:
  explicit EphportProcess(const std::vector<std::string>& args);
  ~EphportProcess();
  EphportProcess(const EphportProcess&) = delete;
  EphportProcess& operator=(const EphportProcess&) = delete;

  pid_t pid() const { return pid_; }
  void signal(int signo) const;
  // Collects output until exit; kills the child after `timeout`.
  RunResult finish(std::chrono::milliseconds timeout = std::chrono::seconds(30));

 private:
  pid_t pid_ = -1;
  UniqueFd out_;
  UniqueFd err_;
};

// Runs ephport with `args` (without the program name) and waits, at most 30 s.
RunResult run_ephport(const std::vector<std::string>& args);

// Number of lines in `text` (a final line without '\n' counts).
size_t line_count(std::string_view text);
std::vector<std::string> split_lines(std::string_view text);

// Runs `ephport snapshot --format json --top 1000 <extra>`, expects exit 0 and
// returns the parsed object. Throws with the stderr text otherwise.
Json snapshot_json(const std::vector<std::string>& extra = {});

// Looks a row up in a snapshot; nullopt if absent. Addresses are compared in
// canonical form.
std::optional<Json> find_destination(const Json& snapshot, const std::string& proto,
                                     const std::string& local, const std::string& remote,
                                     uint16_t remote_port);
std::optional<Json> find_address(const Json& snapshot, const std::string& proto,
                                 const std::string& address);

// --- Socket population -----------------------------------------------------

enum class Proto { tcp, udp };

// How probe sockets are closed: abort sends RST, so no TIME_WAIT is left.
void close_abort(UniqueFd& fd);

// Local port of a socket (getsockname).
uint16_t local_port(int fd);

// How connect() and time_wait() bind a non-empty `source`: without taking a
// port (IP_BIND_ADDRESS_NO_PORT; connect() picks it, in connect() state), or
// bind(source, 0) first (bind-before-connect; the port is bind()-owned).
enum class SourceBind { no_port, take_port };

// Everything a lab client may do before connect(). A SourceBind converts to
// it, so `connect(..., SourceBind::take_port)` reads as before.
struct ClientOptions {
  ClientOptions() = default;
  ClientOptions(SourceBind how) : bind(how) {}  // NOLINT(google-explicit-constructor)

  SourceBind bind = SourceBind::no_port;
  // bind(source, source_port) before connect(): an explicitly chosen port,
  // bind()-owned like take_port. Needs a non-empty source.
  uint16_t source_port = 0;
  // SO_BINDTODEVICE before anything else ("" = none).
  std::string device;
  // Per-socket IP_LOCAL_PORT_RANGE (rule 6); {0, 0} = none.
  uint16_t range_first = 0;
  uint16_t range_last = 0;
  // Non-blocking connect() to a destination that never answers (see
  // Lab::add_blackhole()): the call is accepted or refused at once, the
  // socket stays in SYN_SENT holding its 4-tuple, nothing is accepted.
  bool syn_only = false;
  // IPV6_V6ONLY before bind()/connect(): -1 leaves it (net.ipv6.bindv6only
  // decides), 0 clears it, 1 sets it. IPv6 destinations only.
  int v6only = -1;
};

// A lab: a private network namespace plus every socket a scenario opened.
// Sockets live until release_probes() (probes only) or destruction.
// With own_netns false it works in the caller's current namespace.
class Lab {
 public:
  explicit Lab(bool own_netns = true);
  ~Lab();
  Lab(const Lab&) = delete;
  Lab& operator=(const Lab&) = delete;

  // Sysctls of the lab's namespace.
  void set_range(uint16_t first, uint16_t last);
  void set_reserved(const std::string& ports);  // "40002,40005-40006"
  void set_tw_reuse(int value);
  // Ports in ip_local_port_range (ignores reserved ports): bounds every loop.
  int range_size() const;

  // TCP listener on address:port (SO_REUSEADDR off, backlog 4096).
  void listen(const std::string& address, uint16_t port);
  // The same on an IPv6 address with IPV6_V6ONLY set.
  void listen_v6only(const std::string& address, uint16_t port);
  // Closes the listener; the connections it accepted stay open (rule 9).
  void close_listener(const std::string& address, uint16_t port);

  // A veth pair `device` / `device`p, both up, with local_cidr ("10.9.0.1/24")
  // on `device` and a permanent neighbour entry for `remote` on it: SYNs to
  // remote leave through `device` and are never answered (syn_only clients).
  void add_blackhole(const std::string& device, const std::string& local_cidr,
                     const std::string& remote);

  // n connections from `source` ("" = let routing choose; otherwise bound
  // as `bind` says) to a listener of this lab at dest:port, each accepted.
  // Returns the clients' local ports.
  std::vector<uint16_t> connect(const std::string& source, const std::string& dest, uint16_t port,
                                int n, const ClientOptions& options = {});
  // n connections as above, then closed by the client first (active close),
  // then by the server: n TIME_WAIT sockets on the client side.
  std::vector<uint16_t> time_wait(const std::string& source, const std::string& dest, uint16_t port,
                                  int n, const ClientOptions& options = {});
  // n connections closed by the server only: the clients stay in CLOSE_WAIT.
  std::vector<uint16_t> close_wait(const std::string& source, const std::string& dest,
                                   uint16_t port, int n);
  // n connections the client closes while the server keeps its end open:
  // orphaned clients in FIN_WAIT1/FIN_WAIT2 (the kernel turns an orphaned
  // FIN_WAIT2 into a timewait socket that connect() never recycles).
  std::vector<uint16_t> orphan_fin_wait(const std::string& source, const std::string& dest,
                                        uint16_t port, int n);
  // Aborts (RST, no TIME_WAIT) the held TCP connections to a listener on
  // `port` whose client has one of these local ports, client and child.
  void abort_connections(uint16_t port, const std::vector<uint16_t>& client_ports);
  // A bound-only socket (neither listening nor connected); port 0 = bind(0);
  // `device` as in ClientOptions.
  uint16_t bound_only(Proto proto, const std::string& address, uint16_t port = 0,
                      const std::string& device = "");
  // A UDP socket connected to dest:port (port chosen by autobind); with a
  // `first_dest`, connected to first_dest:port before (same family).
  uint16_t udp_connect(const std::string& dest, uint16_t port, const std::string& first_dest = "");

  // Real calls until the kernel refuses. Each counts the successes and keeps
  // the sockets as probes; any other error than the expected refusal throws,
  // as does reaching range_size() + 5 without a refusal.
  // connect() from `source` as in connect(): stops at EADDRNOTAVAIL.
  int count_connects_until_refused(const std::string& source, const std::string& dest,
                                   uint16_t port, const ClientOptions& options = {});
  // bind(address:0): stops at EADDRINUSE; `device` as in ClientOptions.
  int count_binds_until_refused(Proto proto, const std::string& address,
                                const std::string& device = "");
  // UDP connect() on an unbound socket (wildcard autobind): stops at EAGAIN.
  int count_udp_autobinds_until_refused(const std::string& dest, uint16_t port);
  // Closes the probe sockets (with RST: no TIME_WAIT) and their accepted peers.
  void release_probes();

 private:
  struct Listener {
    UniqueFd fd;
    std::vector<UniqueFd> accepted;
  };
  struct Pair {
    UniqueFd client;
    UniqueFd server;  // the accepted child
  };
  void listen_with(const std::string& address, uint16_t port, bool v6only);
  Listener& listener_for(const std::string& dest, uint16_t port);
  // One connection, accepted (syn_only: left in SYN_SENT, `server` empty);
  // throws if connect() fails.
  Pair connect_one(const std::string& source, const std::string& dest, uint16_t port,
                   const ClientOptions& options);
  // One connect() attempt; returns errno (0 = connected and accepted, or for
  // syn_only, accepted by connect()).
  int try_connect(const std::string& source, const std::string& dest, uint16_t port,
                  std::vector<UniqueFd>& clients, std::vector<UniqueFd>& servers,
                  const ClientOptions& options);

  std::optional<NetnsGuard> netns_;
  std::map<std::pair<std::string, uint16_t>, Listener> listeners_;
  std::vector<UniqueFd> held_;
  std::vector<UniqueFd> probes_;
  std::vector<UniqueFd> probe_peers_;
};

// --- Prediction against the kernel --------------------------------------------
// Every scenario asks ephport twice, before any probe: `--bind-state bpf` (the
// kernel's own bind-bucket state, JSON "bind_state":"exact") and
// `--bind-state estimate` (sock_diag, LISTEN/bound-only ports and the parity
// heuristic, "estimated"). The BPF figures must equal the kernel's count; so
// must the estimate's, except where linux-port-rules.md says sock_diag is
// blind: there the scenario states the estimate's documented error.

struct Predictions {
  Json bpf;
  Json estimate;
};

// Runs `ephport snapshot --format json --top 1000 --bind-state <mode> <extra>`
// for both modes; expects "bind_state" to be "exact" and "estimated".
Predictions predict(const std::vector<std::string>& extra = {});

// Runs `check` on the bpf then the estimate snapshot, each under a
// SCOPED_TRACE naming the mode: for figures both modes must share.
void for_each_bind_state_mode(const Predictions& predicted,
                              const std::function<void(const Json& snapshot)>& check);

// The estimate's documented error: estimate = kernel + error (0 = exact).
// `why` names the blindness (rule and cause) for the failure message.
struct Blind {
  int error = 0;
  std::string why;
};

// Each expects the kernel's count now to equal `expected` (the scenario's
// design), the BPF figure to equal the kernel's count, and the estimate to
// equal it plus `estimate.error`; then releases the probes. `local` is the
// connecting side's address: the JSON local_address, and the probe's source
// (bound with IP_BIND_ADDRESS_NO_PORT; `probe` may add syn_only for a
// destination that never answers). Each prints one "[lab]" line with
// the figures (kernel, bpf, estimate).

// connect_free of the destination row (local, dest, port).
void check_connect_free(Lab& lab, const Predictions& predicted, const std::string& local,
                        const std::string& dest, uint16_t port, int expected,
                        const Blind& estimate = {}, const ClientOptions& probe = {});
// connect_free_new_destination of the address row `local`, probed with
// connect()s to dest:port, a destination `local` has no socket to.
void check_new_destination(Lab& lab, const Predictions& predicted, const std::string& local,
                           const std::string& dest, uint16_t port, int expected,
                           const Blind& estimate = {}, const ClientOptions& probe = {});
// bind_free of the address row `address` against bind(address:0).
void check_bind_free(Lab& lab, const Predictions& predicted, Proto proto,
                     const std::string& address, int expected, const Blind& estimate = {});

// Unbound UDP connect()s to dest:port (autobind: a wildcard bind(0)) until
// EAGAIN, against bind_free of the wildcard row of dest's family.
void check_udp_autobinds(Lab& lab, const Predictions& predicted, const std::string& dest,
                         uint16_t port, int expected, const Blind& estimate = {});

// Prints "[lab] <running test> | <text>": figures for docs/model.md.
void lab_note(const std::string& text);

// The seed script's figure for `address`: TCP sockets (LISTEN excluded) on
// that address whose local port is in [first, last], as `ss -tan` lists them,
// over the range size, in percent. Prints it on a "[lab]" line.
double naive_percent(const std::string& address, uint16_t first, uint16_t last);

// Base fixture: fails (never skips) without root, then gives every test a
// fresh Lab.
class LabTest : public ::testing::Test {
 protected:
  void SetUp() override;
  void TearDown() override;
  Lab& lab() { return *lab_; }

 private:
  std::unique_ptr<Lab> lab_;
};

// Number of distinct ports over one or more lists.
template <typename... Lists>
size_t distinct_ports(const Lists&... lists) {
  std::set<uint16_t> all;
  (all.insert(lists.begin(), lists.end()), ...);
  return all.size();
}

// A private temporary directory, removed with its contents on destruction
// (tests/common/temp_dir.h); throws std::runtime_error if it cannot be made.
class TempDir : public testing::TempDir {
 public:
  TempDir() : testing::TempDir(testing::OnFailure::throw_error, "ephport-lab") {}
};

// Throw std::runtime_error on failure (tests/common/temp_dir.h).
inline std::string read_file(const std::string& path) {
  return testing::read_file_or_throw(path);
}
inline void write_file(const std::string& path, const std::string& content) {
  testing::write_file_or_throw(path, content);
}

}  // namespace ephport::lab
