// The bind-state reader of a build without BPF (EPHPORT_BPF=OFF, or AUTO
// without clang, bpftool, libbpf or kernel BTF at build time).

#include "collect/linux/bind_state.h"
#include "util/error.h"

namespace ephport {

bool bind_state_reader_built() {
  return false;
}

BindStateReport read_bind_state() {
  throw RuntimeError(
      "BPF bind-state reader unavailable: ephport was built without BPF support (install clang, "
      "bpftool and libbpf-dev and rebuild)");
}

}  // namespace ephport
