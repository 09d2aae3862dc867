#include "collect/linux/linux_collector.h"

#include <fmt/core.h>

#include <utility>

#include "collect/linux/bind_state.h"
#include "collect/linux/local_addresses.h"
#include "collect/linux/proc_net.h"
#include "collect/linux/process_info.h"
#include "collect/linux/sock_diag.h"
#include "collect/linux/sysctl.h"
#include "util/error.h"

namespace ephport {

SocketSource collect_sockets(const CollectOptions& options, const SocketVisitor& visit) {
  if (options.source == Source::procfs) {
    read_proc_net(options.proc_root, options.tcp, options.udp, visit);
    return SocketSource::procfs;
  }
  SockDiagOptions diag_options;
  diag_options.tcp = options.tcp;
  diag_options.udp = options.udp;
  if (options.source == Source::netlink) {
    dump_sock_diag(diag_options, visit);
    return SocketSource::netlink;
  }

  // Automatic: fall back only while nothing has reached `visit`, so the
  // consumer never sees a socket twice.
  size_t delivered = 0;
  const SocketVisitor counting = [&](const SocketRecord& record) {
    ++delivered;
    visit(record);
  };
  try {
    dump_sock_diag(diag_options, counting);
  } catch (const SockDiagError& error) {
    const bool fall_back =
        delivered == 0 && (error.at_open() || sock_diag_unavailable(error.error_number()));
    if (!fall_back) {
      throw;
    }
    read_proc_net(options.proc_root, options.tcp, options.udp, visit);
    return SocketSource::procfs;
  }
  return SocketSource::netlink;
}

LinuxCollector::LinuxCollector(LinuxOptions options)
    : options_(std::move(options)),
      processes_(std::make_unique<ProcessInfoCache>(options_.proc_root)) {}

LinuxCollector::~LinuxCollector() = default;

SampleFacts LinuxCollector::begin_sample(const CollectRequest& request) {
  request_ = request;
  SampleFacts facts;
  facts.host = read_host_facts(options_.proc_root);
  facts.host.source =
      options_.source == Source::procfs ? SocketSource::procfs : SocketSource::netlink;
  scanned_.reset();
  owners_ = nullptr;
  if (request.owners) {
    if (options_.scanned_owners != nullptr) {
      owners_ = options_.scanned_owners;
      facts.owners = OwnerScan{OwnerMethod::procfs, owners_->processes_scanned(),
                               owners_->processes_unreadable()};
    } else {
      if (!owner_source_) {
        owner_source_ = std::make_unique<OwnerSource>(options_.proc_root, options_.owner_source);
      }
      scanned_ = owner_source_->scan();
      owners_ = &*scanned_;
      facts.owners = OwnerScan{owner_source_->method(), owners_->processes_scanned(),
                               owners_->processes_unreadable()};
    }
  }
  walked_v6only_.reset();
  if (std::optional<BindStateReport> walked = read_exact_bind_state(facts.bind_state_note)) {
    if (request_.tcp) {
      facts.bind_owned = walked->bind_owned;
    }
    walked_v6only_ = walked->v6only;  // UDP's V6ONLY too, when only UDP is asked for
  }
  facts.local_addresses = read_configured_addresses();
  return facts;
}

SocketSource LinuxCollector::stream_sockets(const SocketVisitor& visit) {
  CollectOptions dump{options_.source, request_.tcp, request_.udp, options_.proc_root};
  if (owners_ == nullptr && !walked_v6only_) {
    return collect_sockets(dump, visit);
  }
  // Owners are joined by the socket's inode, and the V6ONLY sock_diag leaves
  // out by the walk's port bitmaps, here, so nothing downstream needs to
  // know what an inode or the walk is.
  const OwnerTable* owners = owners_;
  const auto* walked = walked_v6only_ ? &*walked_v6only_ : nullptr;
  return collect_sockets(dump, [&](const SocketRecord& socket) {
    const bool owned = owners != nullptr && socket.inode != 0;
    const int8_t v6only =
        walked != nullptr ? walked_v6only(socket, (*walked)[static_cast<size_t>(socket.protocol)])
                          : socket.v6only;
    if (!owned && v6only == socket.v6only) {
      visit(socket);
      return;
    }
    SocketRecord completed = socket;
    if (owned) {
      completed.pids = owners->pids_of(socket.inode);
    }
    completed.v6only = v6only;
    visit(completed);
  });
}

const ProcessInfo* LinuxCollector::process_info(uint32_t pid) {
  return processes_->get(pid);
}

void LinuxCollector::end_sample() {
  processes_->end_sample();
  scanned_.reset();
  owners_ = nullptr;
}

// Reads the BPF bind state when asked and possible. Sets `note` to why the
// figures stay estimated when BPF was tried and failed. In auto mode a
// failure is not retried: the same note comes with every later sample.
std::optional<BindStateReport> LinuxCollector::read_exact_bind_state(std::string& note) {
  using Mode = LinuxOptions::BindState;
  if (options_.bind_state == Mode::estimate || (!request_.tcp && !request_.udp)) {
    return std::nullopt;
  }
  if (options_.bind_state == Mode::automatic && !bind_state_unavailable_.empty()) {
    note = bind_state_unavailable_;
    return std::nullopt;
  }
  try {
    return read_bind_state();
  } catch (const RuntimeError& error) {
    if (options_.bind_state == Mode::bpf) {
      throw;
    }
    bind_state_unavailable_ = error.what();
    note = bind_state_unavailable_;
    return std::nullopt;
  }
}

// The namespace's configured addresses, from rtnetlink. Not for a fixture
// tree (--proc-root): netlink would describe this host, not the tree. A
// failure is said once on stderr; the rows are then those with sockets.
std::optional<std::vector<Address>> LinuxCollector::read_configured_addresses() {
  if (options_.proc_root != LinuxOptions{}.proc_root || !local_addresses_unavailable_.empty()) {
    return std::nullopt;
  }
  try {
    return read_local_addresses();
  } catch (const RuntimeError& error) {
    local_addresses_unavailable_ = error.what();
    fmt::print(stderr, "ephport: note: {}; rows only for addresses with sockets\n",
               local_addresses_unavailable_);
    return std::nullopt;
  }
}

}  // namespace ephport
