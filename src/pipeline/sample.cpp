#include "pipeline/sample.h"

#include <fmt/format.h>

#include <atomic>
#include <filesystem>
#include <optional>
#include <unordered_set>
#include <utility>

#include "analyze/aggregator.h"
#include "collect/import/bundle_files.h"
#include "collect/import/capture_file.h"
#include "evidence/evidence_bundle.h"
#include "snapshot/port_range_parse.h"
#include "util/error.h"
#include "util/time_format.h"

namespace ephport {

namespace {
// Once per run, not per session: `log --netns all` makes a session per
// sample, and serve's collections may run on several threads.
void say_bind_state_note_once(const std::string& note) {
  static std::atomic<bool> said{false};
  if (!said.exchange(true)) {
    fmt::print(stderr, "ephport: note: {}; bind state estimated\n", note);
  }
}
}  // namespace

SampleSession::SampleSession(SampleOptions options)
    : options_(std::move(options)),
      collector_(std::make_unique<LinuxCollector>(options_.linux_options)) {}

SampleSession::~SampleSession() = default;

Analysis SampleSession::take(CaptureWriter* save, std::optional<size_t> top,
                             const std::string* netns) {
  SampleFacts facts = collector_->begin_sample(options_.collect);
  HostFacts& host = facts.host;
  host.netns = netns != nullptr ? *netns : options_.netns;
  if (options_.range) {
    host.set_range(*options_.range);
  }
  Aggregator aggregator(host, facts.owners ? &*facts.owners : nullptr);
  aggregator.set_expiry_window_ms(options_.expiry_window_ms);
  if (facts.bind_owned) {
    aggregator.use_exact_bind_state(*facts.bind_owned);
  }
  if (facts.local_addresses) {
    aggregator.add_configured_addresses(*facts.local_addresses);
  }
  if (save != nullptr) {
    save->write_host(host, facts.owners ? &*facts.owners : nullptr,
                     facts.bind_owned ? &*facts.bind_owned : nullptr,
                     facts.local_addresses ? &*facts.local_addresses : nullptr);
  }
  SocketSource source = collector_->stream_sockets([&](const SocketRecord& socket) {
    aggregator.add(socket);
    if (save != nullptr) {
      save->add(socket);
    }
  });
  Analysis analysis = aggregator.finish(top.value_or(options_.top));
  analysis.bind_state_note = facts.bind_state_note;
  if (!facts.bind_state_note.empty() && options_.bind_state_note_on_stderr) {
    say_bind_state_note_once(facts.bind_state_note);
  }
  analysis.host.source = source;
  analysis.has_tcp = options_.collect.tcp;
  analysis.has_udp = options_.collect.udp;
  if (facts.owners) {
    analysis.owners.identities_read = true;
    // Identities are read after the walk, for the processes that matter only.
    for (ProcessRow& row : analysis.processes) {
      if (const ProcessInfo* info = collector_->process_info(row.pid)) {
        row.info = *info;
      }
    }
  }
  collector_->end_sample();
  return analysis;
}

Analysis take_sample(const SampleOptions& options, CaptureWriter* save) {
  SampleSession session(options);
  return session.take(save);
}

namespace {
// `analyze BUNDLE`: a directory is read as an evidence bundle, through its
// capture; any other directory is bad input.
std::string capture_path(const std::string& path) {
  std::error_code error;
  if (!std::filesystem::is_directory(path, error)) {
    return path;  // read_capture() says what is wrong with it
  }
  // A bundle being written or pruned, or one a crash cut short, is never read.
  std::filesystem::path directory(path);
  if (directory.filename().empty()) {
    directory = directory.parent_path();  // "BUNDLE/"
  }
  if (directory.filename().string().starts_with(kPartialEvidencePrefix)) {
    throw InputError(fmt::format(
        "{} is an incomplete evidence bundle (being written or removed, or cut short by a "
        "crash: the next `ephport log` removes it)",
        path));
  }
  const std::filesystem::path capture = std::filesystem::path(path) / kBundleCaptureFile;
  if (!std::filesystem::is_regular_file(capture, error)) {
    throw InputError(fmt::format("{} is a directory, not an evidence bundle (no {} in it)", path,
                                 kBundleCaptureFile));
  }
  return capture.string();
}

// A bundle's capture records each socket's pids; the identities of those
// processes are in the bundle's processes.json, of the same sample.
void name_recorded_processes(Analysis& analysis, const std::string& capture) {
  const std::filesystem::path path(capture);
  if (path.filename() != kBundleCaptureFile || analysis.processes.empty()) {
    return;
  }
  const std::filesystem::path processes = path.parent_path() / kBundleProcessesFile;
  std::error_code error;
  if (!std::filesystem::exists(processes, error)) {
    return;
  }
  std::unordered_set<uint32_t> pids;
  for (const ProcessRow& row : analysis.processes) {
    pids.insert(row.pid);
  }
  RecordedIdentities recorded = read_recorded_identities(processes.string(), pids);
  const std::string sample_time = format_rfc3339_utc(analysis.host.time, true);
  if (recorded.time != sample_time) {
    fmt::print(stderr,
               "ephport: note: {} is of another sample ({}, the capture's is {}); processes are "
               "not named\n",
               processes.string(), recorded.time, sample_time);
    return;
  }
  for (ProcessRow& row : analysis.processes) {
    auto found = recorded.by_pid.find(row.pid);
    if (found != recorded.by_pid.end()) {
      row.info = std::move(found->second);
    }
  }
}
}  // namespace

Analysis analyze_capture(const std::string& given_path, const SampleOptions& options) {
  const std::string path = capture_path(given_path);
  std::optional<Aggregator> aggregator;
  CaptureExtras recorded;
  read_capture(
      path,
      [&](const HostFacts& recorded_host) {
        HostFacts host = recorded_host;
        if (options.range) {
          host.set_range(*options.range);
        }
        aggregator.emplace(host, recorded.owners ? &*recorded.owners : nullptr);
        if (recorded.bind_owned) {
          aggregator->use_exact_bind_state(*recorded.bind_owned);
        }
        if (recorded.local_addresses) {
          aggregator->add_configured_addresses(*recorded.local_addresses);
        }
      },
      [&](const SocketRecord& socket) {
        if ((socket.protocol == Protocol::tcp && options.collect.tcp) ||
            (socket.protocol == Protocol::udp && options.collect.udp)) {
          aggregator->add(socket);
        }
      },
      &recorded);
  Analysis analysis = aggregator->finish(options.top);
  analysis.has_tcp = options.collect.tcp;
  analysis.has_udp = options.collect.udp;
  // Owners come as the capture recorded their pids (OwnerMethod::capture);
  // identities only when it is a bundle's.
  name_recorded_processes(analysis, path);
  return analysis;
}

PortRange parse_port_range(const std::string& text, const std::string& what) {
  Result<PortRange> range = parse_dash_separated_port_range(text);
  if (!range.ok()) {
    throw InputError(what + ": '" + text +
                     "' is not a port range; expected FIRST-LAST with 1 <= FIRST <= LAST <= 65535");
  }
  return range.value();
}

}  // namespace ephport
