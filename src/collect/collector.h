#pragma once
// Collectors produce a Snapshot: host facts, then a stream of socket records,
// one callback per socket, never a whole table in memory. Collectors never
// format output.
//
// Ordering contract: every TCP LISTEN socket and every bound-only TCP socket
// (both families) is delivered before any other TCP socket. The analysis
// relies on it to know, in one pass, which ports are held by bind() and which
// sockets are children of a listener.

#include <functional>
#include <string>

#include "snapshot/host_facts.h"
#include "snapshot/socket_record.h"

namespace ephport {

using SocketVisitor = std::function<void(const SocketRecord&)>;

enum class Source { automatic, netlink, procfs };

struct CollectOptions {
  Source source = Source::automatic;
  bool tcp = true;
  bool udp = true;
  std::string proc_root = "/proc";  // --proc-root, for fixture trees
};

// Reads computer name, UTC time and the sysctls of the current network
// namespace. Throws RuntimeError naming the file that could not be read.
HostFacts read_host_facts(const std::string& proc_root);

// Streams every socket of the current network namespace to `visit`.
// Source::automatic uses netlink and falls back to /proc/net when netlink is
// unavailable. Returns the source used ("netlink" or "procfs"). Throws
// RuntimeError saying which source failed and why.
std::string collect_sockets(const CollectOptions& options, const SocketVisitor& visit);

// Moves this (single-threaded) process into another network namespace:
// NAME is an `ip netns` name (/run/netns/NAME), anything with a '/' a path.
// Throws InputError if it does not exist, RuntimeError if setns fails.
void enter_netns(const std::string& name_or_path);

}  // namespace ephport
