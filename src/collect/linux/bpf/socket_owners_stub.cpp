// The socket-owner walk of a build without BPF (EPHPORT_BPF=OFF, or AUTO
// without clang, bpftool, libbpf or kernel BTF at build time).

#include "collect/linux/socket_owners_bpf.h"
#include "util/error.h"

namespace ephport {

struct SocketOwnerIterator::Impl {};

bool socket_owner_iterator_built() {
  return false;
}

SocketOwnerIterator::SocketOwnerIterator() {
  throw RuntimeError(
      "BPF socket-owner walk unavailable: ephport was built without BPF support (install clang, "
      "bpftool and libbpf-dev and rebuild)");
}

SocketOwnerIterator::~SocketOwnerIterator() = default;
SocketOwnerIterator::SocketOwnerIterator(SocketOwnerIterator&& other) noexcept = default;
SocketOwnerIterator& SocketOwnerIterator::operator=(SocketOwnerIterator&& other) noexcept = default;

size_t SocketOwnerIterator::scan(OwnerTable& /*table*/) {
  throw RuntimeError("BPF socket-owner walk unavailable: ephport was built without BPF support");
}

}  // namespace ephport
