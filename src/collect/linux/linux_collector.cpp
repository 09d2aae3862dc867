// collect_sockets() for Linux: picks sock_diag or /proc/net.

#include "collect/collector.h"
#include "collect/linux/proc_net.h"
#include "collect/linux/sock_diag.h"

namespace ephport {

std::string collect_sockets(const CollectOptions& options, const SocketVisitor& visit) {
  if (options.source == Source::procfs) {
    read_proc_net(options.proc_root, options.tcp, options.udp, visit);
    return "procfs";
  }
  SockDiagOptions diag_options;
  diag_options.tcp = options.tcp;
  diag_options.udp = options.udp;
  if (options.source == Source::netlink) {
    dump_sock_diag(diag_options, visit);
    return "netlink";
  }

  // Automatic: fall back only while nothing has reached `visit`, so the
  // consumer never sees a socket twice.
  size_t delivered = 0;
  const SocketVisitor counting = [&](const SocketRecord& record) {
    ++delivered;
    visit(record);
  };
  try {
    dump_sock_diag(diag_options, counting);
  } catch (const SockDiagError& error) {
    const bool fall_back =
        delivered == 0 && (error.at_open() || sock_diag_unavailable(error.error_number()));
    if (!fall_back) {
      throw;
    }
    read_proc_net(options.proc_root, options.tcp, options.udp, visit);
    return "procfs";
  }
  return "netlink";
}

}  // namespace ephport
