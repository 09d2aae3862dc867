#pragma once
// The kernel's own bind-bucket state of every TCP socket, read by a BPF
// socket iterator (bpf_iter/tcp). sock_diag cannot tell whether an
// ESTABLISHED or TIME_WAIT socket's port came from bind() (then connect()
// skips it for every destination) or from connect() (it does not); the bind
// bucket can (linux-port-rules.md, rule 2).

#include <array>
#include <cstdint>

#include "collect/linux/v6only_ports.h"
#include "snapshot/port_set.h"

namespace ephport {

struct BindStateReport {
  // Ports whose bind bucket is in bind() state (fastreuse >= 0 or
  // fastreuseport >= 0): __inet_hash_connect() skips them for every
  // destination. Covers every socket the iterator walks (full and TIME_WAIT);
  // bound-only sockets are not walked and come from sock_diag.
  PortSet bind_owned;
  uint64_t sockets = 0;           // sockets walked
  uint64_t reuseaddr = 0;         // with SO_REUSEADDR
  uint64_t reuseport = 0;         // with SO_REUSEPORT
  uint64_t local_port_range = 0;  // with a per-socket IP_LOCAL_PORT_RANGE
  // IPV6_V6ONLY of the walked IPv6 sockets by port, indexed by Protocol:
  // what sock_diag does not report for connected and TIME_WAIT sockets, nor
  // /proc/net for any. UDP's comes from a second iterator (bpf_iter/udp).
  std::array<V6OnlyPorts, kProtocolCount> v6only;
};

// True when this binary was built with the BPF reader (clang, bpftool and
// libbpf were found at build time).
bool bind_state_reader_built();

// Walks every TCP socket of the current network namespace. Throws
// RuntimeError saying why it cannot (built without BPF, no BTF, needs
// CAP_BPF and CAP_PERFMON, ...), so callers can fall back and say so once.
// Callers on several threads take turns: the walks share one loaded program
// and the result it keeps in the kernel.
BindStateReport read_bind_state();

}  // namespace ephport
