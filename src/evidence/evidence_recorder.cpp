#include "evidence/evidence_recorder.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <vector>

#include "collect/import/bundle_files.h"
#include "collect/import/capture_file.h"
#include "collect/linux/process_info.h"
#include "collect/linux/sysctl.h"
#include "evidence/evidence_bundle.h"
#include "evidence/packet_ring.h"
#include "output/json.h"
#include "output/process_output.h"
#include "pipeline/sample.h"
#include "util/error.h"
#include "util/time_format.h"

namespace ephport {

namespace {
using json = nlohmann::ordered_json;

double pressure_of(const Analysis& analysis) {
  double pressure = 0;
  if (analysis.has_tcp) {
    // With an estimated bind state, its worst case: evidence is taken before
    // connects may fail, not after.
    pressure =
        std::max({pressure, analysis.tcp.pressure_percent, analysis.tcp.pressure_percent_max});
  }
  if (analysis.has_udp) {
    pressure = std::max(pressure, analysis.udp.pressure_percent);
  }
  return pressure;
}

// Why a bundle of `bytes` cannot be written even with every older one gone.
std::string no_room(const std::string& directory, const EvidenceLimits& limits, uint64_t bytes) {
  std::optional<DiskSpace> space = disk_space(directory);
  if (bytes > limits.max_bytes) {
    return fmt::format("a bundle of {} bytes exceeds --evidence-max-bytes {} (older bundles kept)",
                       bytes, limits.max_bytes);
  }
  return fmt::format(
      "a bundle of {} bytes would leave less than --evidence-min-free {} bytes free in {} even "
      "without older bundles ({} free; older bundles kept)",
      bytes, limits.min_free, directory, space ? space->free : 0);
}

json detail_json(const ProcessDetail& detail, const ProcessRow& row) {
  json object = {{"pid", row.pid}};
  object.update(process_info_json(detail.info));
  object["sockets"] = row.sockets;
  object["sockets_in_range"] = row.sockets_in_range;
  object["ports"] = row.ports;
  object["ports_in_use"] = row.sockets_in_range;  // its ephport.evidence/1 name
  object["threads"] = detail.threads;
  object["rss_kib"] = detail.rss_kib;
  json limits = json::array();
  for (const ProcessLimit& limit : detail.limits) {
    limits.push_back(
        {{"name", limit.name}, {"soft", limit.soft}, {"hard", limit.hard}, {"units", limit.units}});
  }
  object["limits"] = std::move(limits);
  object["libraries"] = detail.libraries;
  json unreadable = object["unreadable"];
  for (const std::string& what : detail.unreadable) {
    unreadable.push_back(what);
  }
  object["unreadable"] = std::move(unreadable);
  return object;
}
}  // namespace

void add_evidence_options(CLI::App& command, EvidenceOptions& options) {
  command.add_flag("--no-evidence", options.disabled, "Never write evidence bundles");
  command
      .add_option("--evidence-at", options.at_percent,
                  "Write an evidence bundle when pressure reaches PERCENT")
      ->check(CLI::Range(0.0, 100.0))
      ->capture_default_str();
  command
      .add_option("--evidence-every", options.every_seconds,
                  "Seconds between two bundles while pressure stays high")
      ->check(CLI::Range(0.0, 31536000.0))
      ->capture_default_str();
  command.add_option("--evidence-keep", options.keep, "Bundles kept; the oldest are removed")
      ->check(CLI::Range(1, 100000))
      ->capture_default_str();
  command
      .add_option("--evidence-max-bytes", options.max_bytes,
                  "Disk space all bundles may use; the oldest are removed to make room for a "
                  "new one (default: a fifth of the file system, at most 1 GiB)")
      ->transform(CLI::AsSizeValue(false));
  command
      .add_option("--evidence-min-free", options.min_free,
                  "Free space a new bundle must leave on the file system; the oldest are "
                  "removed to keep it (default: a twentieth of the file system, at most 256 MiB)")
      ->transform(CLI::AsSizeValue(false));
  command.add_option("--evidence-dir", options.directory,
                     "Where bundles go (default: evidence/ beside --output)");
  command
      .add_option("--heavy", options.heavy,
                  "Sockets from which a process's exe, limits and libraries go in the bundle")
      ->check(CLI::Range(1u, 100000000u))
      ->capture_default_str();
  command.add_option("--capture", options.capture_interface,
                     "Keep a rolling capture of TCP SYN/FIN/RST on IFACE, saved in each bundle");
  command.add_option("--capture-size", options.capture_mb, "Megabytes the capture keeps")
      ->check(CLI::Range(0.1, 4096.0))
      ->capture_default_str();
}

EvidenceRecorder::EvidenceRecorder(const EvidenceOptions& options, const std::string& log_path,
                                   SampleSession& session)
    : options_(options), session_(session) {
  directory_ = options.directory;
  if (directory_.empty()) {
    std::filesystem::path parent = std::filesystem::path(log_path).parent_path();
    directory_ =
        (parent.empty() ? std::filesystem::path("evidence") : parent / "evidence").string();
  }
  std::error_code error;
  if (std::filesystem::is_directory(directory_, error)) {
    if (size_t removed = remove_partial_evidence(directory_); removed != 0) {
      fmt::print(stderr, "ephport: removed {} incomplete evidence bundle(s) from {}\n", removed,
                 directory_);
    }
  }
  if (!options.capture_interface.empty()) {
    auto bytes = static_cast<size_t>(std::llround(options.capture_mb * 1024 * 1024));
    ring_ = std::make_unique<PacketRing>(options.capture_interface, bytes);
  }
}

EvidenceRecorder::~EvidenceRecorder() = default;

bool EvidenceRecorder::after_sample(const Analysis& analysis) {
  if (pressure_of(analysis) < options_.at_percent) {
    return true;
  }
  auto now = std::chrono::steady_clock::now();
  if (last_written_ &&
      now - *last_written_ < std::chrono::duration<double>(options_.every_seconds)) {
    return true;
  }
  last_written_ = now;  // a failing disk is not retried every sample either
  try {
    write_bundle(analysis);
    return true;
  } catch (const FatalError& error) {
    fmt::print(stderr, "ephport: evidence bundle not written: {}\n", error.what());
    return false;
  }
}

EvidenceLimits EvidenceRecorder::limits() const {
  EvidenceLimits limits{static_cast<size_t>(options_.keep), options_.max_bytes, options_.min_free};
  std::optional<DiskSpace> space = disk_space(directory_);
  if (limits.max_bytes == 0) {
    limits.max_bytes = space ? default_max_bytes(space->size) : UINT64_MAX;
  }
  if (limits.min_free == 0 && space) {
    limits.min_free = default_min_free(space->size);
  }
  return limits;
}

void EvidenceRecorder::write_bundle(const Analysis& trigger) {
  std::error_code error;
  std::filesystem::create_directories(directory_, error);  // for statvfs; the bundle says why not
  // What a crash left is never counted. Then room for a bundle the size of
  // the newest (or twice what a bundle that hit a full disk had written),
  // before it is written: an estimate, checked exactly before commit.
  remove_partial_evidence(directory_);
  const EvidenceLimits limits = this->limits();
  std::vector<BundleUse> bundles = list_bundles(directory_);
  const uint64_t expected = std::max(bundles.empty() ? 0 : bundles.back().bytes, 2 * failed_bytes_);
  Room before = make_room(directory_, limits, expected, expected);
  EvidenceBundle bundle(directory_, trigger.host.time);
  json manifest;
  try {
    manifest = fill_bundle(bundle, trigger);
  } catch (const FatalError&) {
    failed_bytes_ = bundle.disk_bytes();
    throw;
  }
  failed_bytes_ = 0;
  const uint64_t bytes = bundle.disk_bytes();
  Room after = make_room(directory_, limits, bytes, 0);
  if (!after.fits) {
    throw RuntimeError(no_room(directory_, limits, bytes));
  }
  std::string path = bundle.commit(std::move(manifest));
  size_t pruned = before.pruned + after.pruned;
  fmt::print(stderr, "ephport: evidence written to {} (pressure {:.1f}% >= {}%){}\n", path,
             pressure_of(trigger), options_.at_percent,
             pruned != 0 ? fmt::format(", {} older removed", pruned) : std::string());
}

nlohmann::ordered_json EvidenceRecorder::fill_bundle(EvidenceBundle& bundle,
                                                     const Analysis& trigger) {
  // A fresh sample whose raw sockets and analysis agree with each other,
  // every destination listed.
  CaptureWriter sockets(bundle.path_of(kBundleCaptureFile));
  Analysis analysis = session_.take(&sockets, 0);
  sockets.finish();
  bundle.write_file("snapshot.json", render_json(analysis));

  json processes = json::array();
  for (const ProcessRow& row : analysis.processes) {
    processes.push_back(process_json(row, 0, true));
  }
  json table = {{"schema", kProcessesSchema},
                {"computer", analysis.host.computer},
                {"time", format_rfc3339_utc(analysis.host.time, true)},
                {"owners_method", owner_method_name(analysis.owners.method)},
                {"processes", std::move(processes)},
                {"unowned", unowned_json(analysis.tcp.unowned)}};
  bundle.write_file(kBundleProcessesFile, dump_json(table, true));

  json sysctls = json::object();
  for (const auto& [name, value] :
       read_evidence_sysctls(session_.options().linux_options.proc_root)) {
    sysctls[name] = value;
  }
  bundle.write_file("sysctls.json", dump_json(sysctls, true));

  json heavy = json::array();
  for (const ProcessRow& row : analysis.processes) {
    if (row.sockets < options_.heavy) {
      continue;
    }
    std::optional<ProcessDetail> detail =
        read_process_detail(session_.options().linux_options.proc_root, row.pid);
    if (detail) {
      bundle.write_file(fmt::format("heavy/{}.json", row.pid),
                        dump_json(detail_json(*detail, row), true));
      heavy.push_back(row.pid);
    }
  }
  if (ring_) {
    ring_->save(bundle.path_of("capture.pcap"));
  }
  return {{"schema", "ephport.evidence/1"},
          {"computer", analysis.host.computer},
          {"time", format_rfc3339_utc(analysis.host.time, true)},
          {"ephport_version", EPHPORT_VERSION},
          {"trigger",
           {{"time", format_rfc3339_utc(trigger.host.time, true)},
            {"pressure_percent", std::round(pressure_of(trigger) * 100) / 100},
            {"threshold_percent", options_.at_percent}}},
          {"heavy_processes", std::move(heavy)},
          {"capture_interface", ring_ ? json(options_.capture_interface) : json(nullptr)}};
}

}  // namespace ephport
