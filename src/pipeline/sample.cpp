#include "pipeline/sample.h"

#include <fmt/format.h>

#include <charconv>
#include <optional>
#include <utility>

#include "analyze/aggregator.h"
#include "collect/import/capture_file.h"
#include "collect/linux/bind_state.h"
#include "collect/linux/process_info.h"
#include "snapshot/owner_table.h"
#include "util/error.h"

namespace ephport {

namespace {
// Reads the BPF bind state when asked and possible. Sets `note` to why the
// figures stay estimated when BPF was tried and failed. In auto mode a
// failure is said once on stderr, then not retried.
std::optional<PortSet> read_exact_bind_state(const SampleOptions& options, std::string& note) {
  static std::string unavailable;  // the first failure's reason, in auto mode
  using Mode = SampleOptions::BindState;
  if (options.bind_state == Mode::estimate || !options.collect.tcp) {
    return std::nullopt;
  }
  if (options.bind_state == Mode::automatic && !unavailable.empty()) {
    note = unavailable;
    return std::nullopt;
  }
  try {
    return read_bind_state().bind_owned;
  } catch (const RuntimeError& error) {
    if (options.bind_state == Mode::bpf) {
      throw;
    }
    unavailable = error.what();
    fmt::print(stderr, "ephport: note: {}; bind state estimated\n", unavailable);
    note = unavailable;
    return std::nullopt;
  }
}
}  // namespace

SampleSession::SampleSession(SampleOptions options)
    : options_(std::move(options)),
      processes_(std::make_unique<ProcessInfoCache>(options_.collect.proc_root)) {
  if (options_.owners && options_.scanned_owners == nullptr) {
    owners_ = std::make_unique<OwnerSource>(options_.collect.proc_root, options_.owner_source);
  }
}

SampleSession::~SampleSession() = default;

Analysis SampleSession::take(CaptureWriter* save, std::optional<size_t> top) {
  const SampleOptions& options = options_;
  HostFacts host = read_host_facts(options.collect.proc_root);
  host.netns = options.netns;
  host.source = options.collect.source == Source::procfs ? "procfs" : "netlink";
  if (options.range) {
    host.range = *options.range;
  }
  std::optional<OwnerTable> scanned;
  const OwnerTable* owners = nullptr;
  if (options.owners && options.scanned_owners != nullptr) {
    owners = options.scanned_owners;  // --netns all: one scan serves every namespace
  } else if (owners_) {
    scanned = owners_->scan();
    owners = &*scanned;
  }
  std::string bind_state_note;
  std::optional<PortSet> bind_owned = read_exact_bind_state(options, bind_state_note);
  Aggregator aggregator(host, owners);
  aggregator.set_expiry_window_ms(options.expiry_window_ms);
  if (bind_owned) {
    aggregator.use_exact_bind_state(*bind_owned);
  }
  if (save != nullptr) {
    save->write_host(host, owners, bind_owned ? &*bind_owned : nullptr);
  }
  std::string source = collect_sockets(options.collect, [&](const SocketRecord& socket) {
    aggregator.add(socket);
    if (save != nullptr) {
      save->add(socket);
    }
  });
  Analysis analysis = aggregator.finish(top.value_or(options.top));
  analysis.bind_state_note = bind_state_note;
  analysis.host.source = source;
  analysis.has_tcp = options.collect.tcp;
  analysis.has_udp = options.collect.udp;
  if (owners != nullptr) {
    analysis.owners.method = owners_ ? owners_->method() : "procfs";
    analysis.owners.identities_read = true;
    // Identities are read after the walk, for the processes that matter only.
    for (ProcessRow& row : analysis.processes) {
      if (const ProcessInfo* info = processes_->get(row.pid)) {
        row.info = *info;
      }
    }
    processes_->end_sample();
  }
  return analysis;
}

Analysis take_sample(const SampleOptions& options, CaptureWriter* save) {
  SampleSession session(options);
  return session.take(save);
}

Analysis analyze_capture(const std::string& path, const SampleOptions& options) {
  std::optional<Aggregator> aggregator;
  CaptureExtras owners;
  read_capture(
      path,
      [&](const HostFacts& recorded) {
        HostFacts host = recorded;
        if (options.range) {
          host.range = *options.range;
        }
        aggregator.emplace(host, owners.resolved ? &owners.table : nullptr);
        if (owners.bind_owned) {
          aggregator->use_exact_bind_state(*owners.bind_owned);
        }
      },
      [&](const SocketRecord& socket) {
        if ((socket.protocol == Protocol::tcp && options.collect.tcp) ||
            (socket.protocol == Protocol::udp && options.collect.udp)) {
          aggregator->add(socket);
        }
      },
      &owners);
  Analysis analysis = aggregator->finish(options.top);
  analysis.has_tcp = options.collect.tcp;
  analysis.has_udp = options.collect.udp;
  if (owners.resolved) {
    analysis.owners.method = "capture";  // pids as recorded; identities were not saved
  }
  return analysis;
}

PortRange parse_port_range(const std::string& text, const std::string& what) {
  auto dash = text.find('-');
  auto number = [&](std::string_view part) -> std::optional<uint32_t> {
    uint32_t value = 0;
    auto [end, error] = std::from_chars(part.data(), part.data() + part.size(), value);
    if (error != std::errc() || end != part.data() + part.size() || value == 0 || value > 65535) {
      return std::nullopt;
    }
    return value;
  };
  if (dash != std::string::npos) {
    std::string_view all(text);
    auto first = number(all.substr(0, dash));
    auto last = number(all.substr(dash + 1));
    if (first && last && *first <= *last) {
      return {static_cast<uint16_t>(*first), static_cast<uint16_t>(*last)};
    }
  }
  throw InputError(what + ": '" + text +
                   "' is not a port range; expected FIRST-LAST with 1 <= FIRST <= LAST <= 65535");
}

}  // namespace ephport
