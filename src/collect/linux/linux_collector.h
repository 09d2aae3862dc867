#pragma once
// The Linux collector: sockets from sock_diag (or /proc/net), host facts
// from the sysctls, owners from the BPF task_file walk (or /proc/PID/fd),
// the bind state from a BPF socket iterator, process identities from /proc.

#include <array>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "collect/collector.h"
#include "collect/linux/bind_state.h"
#include "collect/linux/owner_source.h"

namespace ephport {

class ProcessInfoCache;

// --source: where socket records come from.
enum class Source { automatic, netlink, procfs };

// What a socket dump reads.
struct CollectOptions {
  Source source = Source::automatic;
  bool tcp = true;
  bool udp = true;
  std::string proc_root = "/proc";  // --proc-root, for fixture trees
};

// Streams every socket of the current network namespace to `visit`.
// Source::automatic uses netlink and falls back to /proc/net when netlink is
// unavailable. Returns the source used. Throws RuntimeError saying which
// source failed and why.
SocketSource collect_sockets(const CollectOptions& options, const SocketVisitor& visit);

// The Linux command-line choices.
struct LinuxOptions {
  Source source = Source::automatic;
  std::string proc_root = "/proc";
  // --owner-source: the BPF task_file walk, /proc/PID/fd, or auto.
  OwnerSource::Mode owner_source = OwnerSource::Mode::automatic;
  // --bind-state: auto (BPF when it works, else estimate), bpf (required),
  // estimate (never try BPF).
  enum class BindState { automatic, bpf, estimate } bind_state = BindState::automatic;
  // Owners scanned beforehand (socket inodes are host-wide: --netns all
  // scans once for every namespace), or null to scan per sample.
  const OwnerTable* scanned_owners = nullptr;
};

// Samples the current network namespace again and again (log, serve),
// keeping what can be reused: the loaded owner walk, the identities of
// processes already seen, and why BPF could not read the bind state.
class LinuxCollector final : public Collector {
 public:
  explicit LinuxCollector(LinuxOptions options);
  ~LinuxCollector() override;
  LinuxCollector(const LinuxCollector&) = delete;
  LinuxCollector& operator=(const LinuxCollector&) = delete;

  SampleFacts begin_sample(const CollectRequest& request) override;
  SocketSource stream_sockets(const SocketVisitor& visit) override;
  const ProcessInfo* process_info(uint32_t pid) override;
  void end_sample() override;

 private:
  std::optional<BindStateReport> read_exact_bind_state(std::string& note);
  std::optional<std::vector<Address>> read_configured_addresses();

  LinuxOptions options_;
  CollectRequest request_;
  std::unique_ptr<OwnerSource> owner_source_;
  std::unique_ptr<ProcessInfoCache> processes_;
  std::optional<OwnerTable> scanned_;   // this sample's owners, when scanned here
  const OwnerTable* owners_ = nullptr;  // this sample's owners, or null
  // This sample's V6ONLY of the sockets sock_diag does not report it for,
  // when the BPF walk read them.
  std::optional<std::array<V6OnlyPorts, kProtocolCount>> walked_v6only_;
  std::string bind_state_unavailable_;       // the first BPF failure, in auto mode
  std::string local_addresses_unavailable_;  // why rtnetlink failed, said once
};

}  // namespace ephport
