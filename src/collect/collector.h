#pragma once
// The contract every platform's collector keeps. A collector produces one
// sample at a time: the host facts and what must be known before the first
// socket (SampleFacts), then a stream of socket records, one callback per
// socket, never a whole table in memory. Collectors never format output.
//
// Ordering contract: every TCP LISTEN socket and every bound-only TCP socket
// (both families) is delivered before any other TCP socket. The analysis
// relies on it to know, in one pass, which ports are held by bind() and which
// sockets are children of a listener.

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "snapshot/address.h"
#include "snapshot/host_facts.h"
#include "snapshot/owner_table.h"
#include "snapshot/port_set.h"
#include "snapshot/process_info.h"
#include "snapshot/socket_record.h"

namespace ephport {

using SocketVisitor = std::function<void(const SocketRecord&)>;

// What the pipeline asks for.
struct CollectRequest {
  bool tcp = true;
  bool udp = true;
  bool owners = true;  // fill each record's owner pids
};

// What a collector knows of a sample before its first socket.
struct SampleFacts {
  HostFacts host;
  // How owners were found, when the request asked for them.
  std::optional<OwnerScan> owners;
  // The allocator's own record of the ports bind() holds (TCP), when the
  // platform lets it be read; otherwise the model estimates it.
  std::optional<PortSet> bind_owned;
  std::string bind_state_note;  // why bind_owned was not read, when it was tried
  // The addresses configured on the namespace's interfaces that bind() can
  // use, sorted: each gets an address row even with no socket of its own.
  // Empty when the platform or the source cannot tell.
  std::optional<std::vector<Address>> local_addresses;
};

class Collector {
 public:
  virtual ~Collector() = default;

  // Starts a sample: reads the host facts and, as asked, the owners and
  // the bind state. Throws RuntimeError naming what could not be read.
  virtual SampleFacts begin_sample(const CollectRequest& request) = 0;
  // Streams every socket of the sample to `visit`, owner pids filled when
  // they were asked for. Returns where the records came from. Throws
  // RuntimeError saying which source failed and why.
  virtual SocketSource stream_sockets(const SocketVisitor& visit) = 0;
  // The identity of a process of this sample; null when it exited or
  // cannot be read. Valid until end_sample().
  virtual const ProcessInfo* process_info(uint32_t pid) = 0;
  // Ends the sample; what only it needed is dropped.
  virtual void end_sample() = 0;
};

}  // namespace ephport
