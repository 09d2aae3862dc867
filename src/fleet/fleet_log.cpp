#include "fleet/fleet_log.h"

#include <fmt/format.h>

#include <chrono>
#include <cmath>

#include "fleet/fleet_rows.h"
#include "fleet/remote_snapshots.h"
#include "output/sink.h"
#include "pipeline/sample_loop.h"
#include "platform/append_file.h"
#include "util/error.h"

namespace ephport {

namespace {

std::vector<HostRecord> host_records(const std::vector<RemoteSample>& samples) {
  std::vector<HostRecord> hosts;
  for (const RemoteSample& sample : samples) {
    HostRecord host;
    host.endpoint = sample.endpoint.text;
    host.analysis = sample.analysis ? &*sample.analysis : nullptr;
    host.document = sample.analysis ? &sample.document : nullptr;
    host.error = sample.error;
    host.asked = sample.asked;
    hosts.push_back(std::move(host));
  }
  return hosts;
}

}  // namespace

int run_fleet_log(const FleetLogOptions& options) {
  RemoteOptions remote;
  remote.timeout =
      std::chrono::milliseconds(static_cast<int64_t>(std::lround(options.timeout * 1000)));
  if (!options.ca_file.empty()) {
    check_ca_file(options.ca_file);
    remote.ca_file = options.ca_file;
  }
  if (!options.auth_file.empty()) {
    remote.credentials = read_auth_file(options.auth_file);
  }
  RemoteSnapshots snapshots(parse_remote_endpoints(options.computers, "--computers"), remote);
  AppendFile log = AppendFile::open(options.output, {}, options.rotation);
  std::vector<RemoteSample> samples;  // the records point into these
  std::vector<HostRecord> hosts;
  bool any_answered = false;
  int dropped = run_sample_loop(
      options.interval, options.count, log,
      [&](int) -> RecordRenderer {
        samples = snapshots.pull();
        for (const RemoteSample& sample : samples) {
          any_answered = any_answered || sample.analysis.has_value();
        }
        hosts = host_records(samples);
        return [&](bool header, size_t width) {
          return render_log_record(options.format,
                                   {[&](bool mark) { return fleet_sheet(hosts, mark); },
                                    [&] { return render_fleet_jsonl(hosts); }, nullptr},
                                   header, width);
        };
      },
      {}, options.console_width);
  if (dropped != 0) {
    fmt::print(stderr, "ephport: {} sample(s) could not be written to {}\n", dropped,
               options.output);
    return kExitRuntime;
  }
  // Rows that say "unreachable" for every host are logged, but a run in
  // which no host ever answered did not do its job: a script must see it.
  if (!any_answered) {
    fmt::print(stderr, "ephport: no host of --computers answered in any sample\n");
    return kExitRuntime;
  }
  return kExitOk;
}

}  // namespace ephport
