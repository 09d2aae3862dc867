#include "output/netns_output.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <set>

#include "output/address_rows.h"
#include "output/json.h"
#include "output/snapshot_view.h"
#include "output/table.h"
#include "util/time_format.h"

namespace ephport {

namespace {
using json = nlohmann::ordered_json;

constexpr size_t kShortContainerId = 12;  // docker ps
constexpr size_t kShortPodUid = 8;

// Where Netns goes: right after the seed's last column.
std::ptrdiff_t netns_column() {
  const std::vector<Column>& columns = address_columns();
  auto pids = std::find_if(columns.begin(), columns.end(),
                           [](const Column& column) { return column.header == "#OfPids"; });
  return pids - columns.begin() + 1;
}

std::string name_or_inode(const NetnsIdentity& identity) {
  return identity.name.empty() ? std::to_string(identity.inode) : identity.name;
}

// "Network namespace blue (inode 4026532301, pid 812, docker 3f4e5a6b7c8d):"
std::string block_title(const NetnsIdentity& identity) {
  std::vector<std::string> parts;
  if (!identity.name.empty()) {
    parts.push_back(fmt::format("inode {}", identity.inode));
  }
  if (identity.pid != 0) {
    parts.push_back(fmt::format("pid {}", identity.pid));
  }
  if (!identity.container.empty()) {
    parts.push_back(fmt::format("{} {}", identity.runtime.empty() ? "container" : identity.runtime,
                                identity.container.substr(0, kShortContainerId)));
  }
  if (!identity.pod.empty()) {
    parts.push_back("pod " + identity.pod);
  }
  if (!identity.unit.empty()) {
    parts.push_back("unit " + identity.unit);
  }
  std::string title = "Network namespace " + name_or_inode(identity);
  if (!parts.empty()) {
    title += fmt::format(" ({})", fmt::join(parts, ", "));
  }
  return title + ":\n";
}

// The snapshot object with "netns" after "time", where a reader looks first.
json labelled_snapshot(const Analysis& analysis) {
  json snapshot = snapshot_json(analysis);
  json labelled = json::object();
  for (auto& [key, value] : snapshot.items()) {
    labelled[key] = value;
    if (key == "time" && analysis.host.netns_identity) {
      labelled["netns"] = netns_json(*analysis.host.netns_identity);
    }
  }
  return labelled;
}

std::string wrapper_notes(const NetnsSamples& samples) {
  std::string out;
  if (samples.vanished != 0) {
    out += fmt::format("note: {} namespace(s) vanished before they could be sampled\n",
                       samples.vanished);
  }
  if (samples.processes_unreadable != 0) {
    out += fmt::format(
        "note: the network namespace of {} process(es) could not be read (ptrace access denied: "
        "run as root); a namespace only they use is missing\n",
        samples.processes_unreadable);
  }
  return out;
}
}  // namespace

std::string netns_label(const NetnsIdentity& identity) {
  std::string label = name_or_inode(identity);
  // append(), not "/" + substr(): g++ 12 warns falsely (-Wrestrict) on the latter.
  if (!identity.container.empty()) {
    label.append("/").append(identity.container, 0, kShortContainerId);
  } else if (!identity.pod.empty()) {
    label.append("/pod:").append(identity.pod, 0, kShortPodUid);
  } else if (!identity.unit.empty()) {
    label.append("/").append(identity.unit);
  }
  return label;
}

Sheet netns_address_sheet(const NetnsSamples& samples, bool mark_estimates, bool all_addresses) {
  const std::ptrdiff_t at = netns_column();
  Sheet sheet{address_columns(), {}};
  sheet.columns.insert(sheet.columns.begin() + at, Column{"Netns", Align::left});
  for (const Analysis& analysis : samples.namespaces) {
    const std::string label =
        analysis.host.netns_identity ? netns_label(*analysis.host.netns_identity) : "-";
    for (Cells& row : address_sheet(analysis, mark_estimates, all_addresses).rows) {
      row.insert(row.begin() + at, label);
      sheet.rows.push_back(std::move(row));
    }
  }
  return sheet;
}

std::string render_netns_snapshot_table(const NetnsSamples& samples, bool all_addresses,
                                        size_t width) {
  bool narrowed = false;
  std::string out =
      render_table(netns_address_sheet(samples, true, all_addresses), width, &narrowed);
  // The notes are mostly the same for every namespace (one owner scan):
  // each is said once.
  std::vector<std::string> notes;
  std::set<std::string> said;
  for (const Analysis& analysis : samples.namespaces) {
    out += '\n';
    if (analysis.host.netns_identity) {
      out += block_title(*analysis.host.netns_identity);
    }
    out += render_summary_block(analysis, width, &narrowed);
    std::string text = render_notes(analysis);
    for (size_t start = 0, end = 0; start < text.size(); start = end + 1) {
      end = std::min(text.find('\n', start), text.size());
      std::string line = text.substr(start, end - start);
      if (said.insert(line).second) {
        notes.push_back(std::move(line));
      }
    }
  }
  out += '\n';
  for (const std::string& note : notes) {
    out += note + "\n";
  }
  out += wrapper_notes(samples);
  return narrowed ? out + narrowed_note(width) : out;
}

json netns_json(const NetnsIdentity& identity) {
  return {{"inode", identity.inode},
          {"name", text_or_null(identity.name)},
          {"path", identity.path},
          {"pid", identity.pid == 0 ? json(nullptr) : json(identity.pid)},
          {"runtime", text_or_null(identity.runtime)},
          {"container", text_or_null(identity.container)},
          {"pod", text_or_null(identity.pod)},
          {"unit", text_or_null(identity.unit)}};
}

json netns_snapshots_json(const NetnsSamples& samples) {
  json namespaces = json::array();
  for (const Analysis& analysis : samples.namespaces) {
    namespaces.push_back(labelled_snapshot(analysis));
  }
  return {{"schema", kSnapshotsSchema},
          {"computer", samples.computer},
          {"time", format_rfc3339_utc(samples.time, true)},
          {"namespaces", std::move(namespaces)},
          {"namespaces_vanished", samples.vanished},
          {"processes_unreadable", samples.processes_unreadable}};
}

std::string render_netns_json(const NetnsSamples& samples) {
  return dump_json(netns_snapshots_json(samples), true);
}

std::string render_netns_jsonl(const NetnsSamples& samples) {
  return dump_json(netns_snapshots_json(samples), false);
}

}  // namespace ephport
