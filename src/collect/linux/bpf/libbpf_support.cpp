#include "collect/linux/bpf/libbpf_support.h"

#include <bpf/libbpf.h>
#include <fmt/format.h>

#include <cerrno>
#include <cstdarg>
#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace ephport {

namespace {
int print_libbpf(enum libbpf_print_level, const char* format, va_list args) {
  static const bool debug = std::getenv("EPHPORT_BPF_DEBUG") != nullptr;
  return debug ? std::vfprintf(stderr, format, args) : 0;
}
}  // namespace

void quiet_libbpf() {
  libbpf_set_print(print_libbpf);
}

std::string describe_bpf_failure(const std::string& what, int error) {
  const char* hint = error == EPERM || error == EACCES
                         ? " (needs root or CAP_BPF+CAP_PERFMON; for exact figures without "
                           "root: setcap cap_bpf,cap_perfmon+ep on the ephport binary, or "
                           "AmbientCapabilities=CAP_BPF CAP_PERFMON in its systemd unit)"
                         : " (set EPHPORT_BPF_DEBUG=1 to see libbpf's log)";
  return fmt::format("{} failed: {}{}", what, std::strerror(error), hint);
}

}  // namespace ephport
