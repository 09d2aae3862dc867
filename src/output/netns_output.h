#pragma once
// `--netns all` output: every sink of one namespace, for several.
//
// Table and CSV: the address rows of every namespace in one grid, with a
// `Netns` column right after the seed's columns; the snapshot table then
// prints one summary block per namespace. JSON: an ephport.snapshots/1
// wrapper holding one ephport.snapshot/1 object per namespace, each with a
// "netns" object (docs/output.md).

#include <cstddef>
#include <nlohmann/json.hpp>
#include <string>

#include "analyze/netns_samples.h"
#include "output/sheet.h"

namespace ephport {

inline constexpr const char* kSnapshotsSchema = "ephport.snapshots/1";

// The Netns cell: the `ip netns` name or the inode, then "/" and the
// container's short id ("/pod:" and 8 digits of the pod UID, or the systemd
// unit, when that is all there is): "blue", "4026532301/3f4e5a6b7c8d".
std::string netns_label(const NetnsIdentity& identity);

// The address sheet of every namespace, one after the other, with "Netns"
// after the seed's columns (output/address_rows.h).
Sheet netns_address_sheet(const NetnsSamples& samples, bool mark_estimates,
                          bool all_addresses = false);

// snapshot --format table: the sheet, then a summary block per namespace.
// `width` as in render_snapshot_table() (output/snapshot_view.h).
std::string render_netns_snapshot_table(const NetnsSamples& samples, bool all_addresses = false,
                                        size_t width = 0);

// {"inode", "name", "path", "pid", "runtime", "container", "pod", "unit"}; null when unknown.
nlohmann::ordered_json netns_json(const NetnsIdentity& identity);
nlohmann::ordered_json netns_snapshots_json(const NetnsSamples& samples);
std::string render_netns_json(const NetnsSamples& samples);   // pretty, for snapshot
std::string render_netns_jsonl(const NetnsSamples& samples);  // one line, for log

}  // namespace ephport
