// Golden end-to-end runs on the captured fixtures: collector, model,
// analysis and sinks together, on the namespace described in
// tests/fixtures/sock_diag/README.md. A change in any stage that moves a
// figure shows up as a diff against tests/fixtures/golden/.
// Regenerate (after checking the diff by hand) with EPHPORT_UPDATE_GOLDEN=1.

#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <nlohmann/json.hpp>

#include "address_csv.h"
#include "aggregator_fixtures.h"
#include "analyze/aggregator.h"
#include "collect/linux/proc_owners.h"
#include "collect/linux/sock_diag.h"
#include "collect/linux/sysctl.h"
#include "collect_fixtures.h"
#include "output/csv.h"
#include "output/json.h"
#include "pipeline/sample.h"

namespace ephport {
namespace {

using testing::render_csv_header;
using testing::render_csv_rows;

using testing::fixture_path;

// The snapshot without what changes from run to run (the time).
std::string stable_json(const Analysis& analysis) {
  nlohmann::ordered_json json = snapshot_json(analysis);
  json.erase("time");
  return json.dump(2) + "\n";
}

std::string stable_csv(const Analysis& analysis) {
  std::string rows = render_csv_rows(analysis);
  std::string time =
      "," + nlohmann::json::parse(render_jsonl(analysis))["time"].get<std::string>().substr(0, 19) +
      "Z,";
  for (size_t at = rows.find(time); at != std::string::npos; at = rows.find(time)) {
    rows.replace(at, time.size(), ",TIME,");
  }
  return render_csv_header() + rows;
}

void expect_golden(const std::string& name, const std::string& actual) {
  std::string path = fixture_path("golden/" + name);
  if (std::getenv("EPHPORT_UPDATE_GOLDEN") != nullptr) {
    std::ofstream(path) << actual;
  }
  std::ifstream in(path);
  ASSERT_TRUE(in) << "missing golden file " << path;
  std::string expected((std::istreambuf_iterator<char>(in)), {});
  EXPECT_EQ(actual, expected) << "golden file " << path;
}

SampleOptions fixture_options() {
  SampleOptions options;
  options.linux_options.source = Source::procfs;
  options.linux_options.proc_root = fixture_path("proc");
  options.top = 0;
  options.linux_options.bind_state = LinuxOptions::BindState::estimate;  // BPF would read this host
  return options;
}

TEST(EndToEnd, ProcTreeSnapshot) {
  Analysis analysis = take_sample(fixture_options(), nullptr);
  EXPECT_EQ(socket_source_name(analysis.host.source), "procfs");
  expect_golden("procfs-snapshot.json", stable_json(analysis));
  expect_golden("procfs-snapshot.csv", stable_csv(analysis));
}

// The netlink recording of the same moment, through the same analysis, with
// the same host facts and owners: differs from /proc/net only by what /proc
// cannot show (bound-only sockets, V6ONLY).
TEST(EndToEnd, NetlinkRecordingSnapshot) {
  SampleOptions options = fixture_options();
  HostFacts host = read_host_facts(options.linux_options.proc_root);
  host.source = SocketSource::netlink;
  OwnerTable owners = scan_proc_owners(options.linux_options.proc_root);
  const OwnerScan scan = testing::scan_of(owners);
  Aggregator aggregator(host, &scan);
  replay_sock_diag(
      testing::read_binary(fixture_path("sock_diag/dump.bin")),
      [&](const SocketRecord& socket) { testing::add_owned(aggregator, &owners, socket); });
  Analysis analysis = aggregator.finish(0);
  expect_golden("netlink-snapshot.json", stable_json(analysis));
  // Bound-only sockets hold ports in bind() state: only netlink sees them.
  EXPECT_GT(analysis.tcp.bind_owned_ports, take_sample(options, nullptr).tcp.bind_owned_ports);
}

}  // namespace
}  // namespace ephport
