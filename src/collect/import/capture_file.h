#pragma once
// Saved snapshots ("captures"): the raw socket records and host facts of one
// sample, written by `ephport snapshot --save FILE` and replayed offline by
// `ephport analyze FILE` through the same analysis.
//
// Format: JSON Lines, schema "ephport.capture/1".
//   line 1:  {"schema":"ephport.capture/1","host":{...host_facts_to_json()...}}
//   then one line per socket, in the order the collector delivered them:
//   {"proto":"tcp","family":6,"state":"ESTABLISHED","local":"127.0.0.1",
//    "lport":40000,"remote":"127.0.0.1","rport":8080,"if":0,"uid":0,
//    "inode":1234,"timer":0,"expires_ms":0,"v6only":null,
//    "bind_address_no_port":false,"pids":[812]}
// When process owners were resolved, the header carries
// "owners":{"processes_scanned":N,"processes_unreadable":M} and each socket
// line its owning "pids" (empty for TIME_WAIT and orphans); otherwise
// "owners" is null and lines have no "pids". With the exact (BPF) bind
// state the header also has "bind_owned":[ports...], else null. The header's
// "local_addresses" lists the addresses configured on the namespace's
// interfaces (["127.0.0.1","::1",...]), or is null when they were not read;
// captures written before it have no such field, read as null.
// `family` is the family the kernel reported (4 or 6); addresses are
// normalised (v4-mapped IPv6 written as IPv4); `v6only` is null when the
// kernel did not report it. Every field the writer writes is required when
// reading, except that host.tcp_tw_reuse_delay_ms may be null or absent;
// unknown fields are ignored, so later versions may add fields.

#include <cstddef>
#include <cstdint>
#include <functional>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "collect/collector.h"
#include "platform/atomic_file.h"
#include "snapshot/address.h"
#include "snapshot/host_facts.h"
#include "snapshot/owner_table.h"
#include "snapshot/port_set.h"
#include "snapshot/socket_record.h"

namespace ephport {

inline constexpr std::string_view kCaptureSchema = "ephport.capture/1";

// Writes a capture to `path.tmp` and, in finish(), renames it over `path`
// (platform/atomic_file.h): a crash or an error never leaves a partial file
// under the final name. A writer destroyed before finish() removes its
// temporary file.
// Use: write_host() once, then add() per socket, then finish().
// Errors throw RuntimeError("cannot write PATH: <reason>"); calls out of
// that order are programming errors (require(), util/contract.h).
class CaptureWriter {
 public:
  explicit CaptureWriter(std::string path);
  ~CaptureWriter();
  CaptureWriter(const CaptureWriter&) = delete;
  CaptureWriter& operator=(const CaptureWriter&) = delete;

  // `owners` (may be null: not resolved) supplies the header's process
  // counts; add() then records each socket's pids.
  // `bind_owned` (may be null) is the exact BPF bind state, if it was read.
  // `local_addresses` (may be null) are the configured addresses, if read.
  void write_host(const HostFacts& host, const OwnerScan* owners = nullptr,
                  const PortSet* bind_owned = nullptr,
                  const std::vector<Address>* local_addresses = nullptr);
  void add(const SocketRecord& record);  // buffered
  // Flushes, fsyncs and renames the file into place.
  void finish();

 private:
  void flush();
  [[noreturn]] void fail(int error) const;

  std::string path_;
  std::optional<AtomicFile> file_;  // always set once constructed
  std::string buffer_;
  bool owners_ = false;
  bool host_written_ = false;
  bool finished_ = false;
};

// What read_capture() refuses beyond, checked while reading (before the
// parser holds the data), so a hostile or endless file costs bounded memory
// and time. The longest line ephport writes is the header: every port in
// "bind_owned" is 0.4 MB, which leaves room for about 90 000 IPv6
// "local_addresses" in 4 MiB; a socket line is about 270 bytes, so 16 GiB
// is some 60 million sockets. JSON nesting is bounded by kMaxJsonDepth
// (util/outside_json.h).
struct CaptureLimits {
  size_t max_line_bytes = size_t{4} << 20;
  uint64_t max_file_bytes = uint64_t{16} << 30;
};

// Streams the capture at `path`, calling `visit` for each socket in file
// order, and returns its host facts (as recorded, including `source`).
// The file must keep the collector ordering contract (TCP LISTEN and
// bound-only sockets first); one that breaks it is rejected. Sockets before
// a bad line have already been visited when the error is thrown.
// Throws RuntimeError("cannot read PATH: <reason>") if the file cannot be
// read, and InputError("PATH:LINE: <what is wrong>") for bad content (a
// line or a file beyond CaptureLimits included); text quoted from the file
// is escaped and short (util/escape.h), and every string read is escaped.
HostFacts read_capture(const std::string& path, const SocketVisitor& visit);

// The same, calling `on_host` with the host facts once, after the header and
// before the first socket, for consumers that need the facts up front (the
// aggregator is built from them).
using HostVisitor = std::function<void(const HostFacts&)>;

// What a capture records beside the sockets, known when on_host runs.
// Process owners: `owners` when they were resolved, and then each visited
// socket carries its recorded pids. `bind_owned`: the BPF bind state of the
// sample, when it was read (the header's "bind_owned").
struct CaptureExtras {
  std::optional<OwnerScan> owners;
  std::optional<PortSet> bind_owned;
  std::optional<std::vector<Address>> local_addresses;  // the header's "local_addresses"
};

// As above, calling `on_host` once after the header and before the first
// socket (the analysis needs the host facts first), and filling `owners`
// when given.
HostFacts read_capture(const std::string& path, const HostVisitor& on_host,
                       const SocketVisitor& visit, CaptureExtras* owners = nullptr,
                       const CaptureLimits& limits = {});

// The "host" object of a capture; also embedded in the JSON snapshot output.
// `time` is RFC 3339 UTC with milliseconds.
nlohmann::json host_facts_to_json(const HostFacts& host);
// The inverse. Throws InputError("host.FIELD: <what is wrong>").
HostFacts host_facts_from_json(const nlohmann::json& host);

}  // namespace ephport
