#pragma once
// Reading back an evidence bundle (docs/evidence.md), whose files
// evidence/evidence_recorder.cpp writes: their names, and the identities of
// the processes its processes.json (ephport.processes/1) recorded, so that
// `ephport analyze BUNDLE` names the processes its capture has pids for.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>

#include "snapshot/process_info.h"

namespace ephport {

inline constexpr std::string_view kBundleCaptureFile = "sockets.capture.jsonl";
inline constexpr std::string_view kBundleProcessesFile = "processes.json";
inline constexpr std::string_view kProcessesSchema = "ephport.processes/1";

// What a processes.json is refused beyond, so that reading one costs
// bounded memory whatever it holds: one value (a string, a number) longer
// than this, or containers nested deeper.
inline constexpr size_t kMaxRecordedValueBytes = size_t{64} * 1024;
inline constexpr size_t kMaxRecordedDepth = 16;

struct RecordedIdentities {
  std::string time;  // the sample's, as recorded (RFC 3339 UTC, milliseconds)
  std::unordered_map<uint32_t, ProcessInfo> by_pid;  // the wanted pids it holds
};

// Streams the processes.json at `path` and keeps the identity (name, ppid,
// exe, cmdline, user, uid, cgroup, unit, container, runtime, pod, fd_count,
// start time, unreadable) of each process whose pid is in `wanted`; the rest
// of the file (ports, destinations, unowned sockets) is skipped.
// Throws InputError("PATH: <what is wrong>") for content that is not such a
// file (another schema, malformed JSON, a mistyped field, a value or a
// nesting beyond the limits above) and for a file that cannot be read.
RecordedIdentities read_recorded_identities(const std::string& path,
                                            const std::unordered_set<uint32_t>& wanted);

}  // namespace ephport
