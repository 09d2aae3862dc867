#pragma once
// What both BPF readers (bind state, socket owners) say about libbpf: one
// line per failure, libbpf's own log only with EPHPORT_BPF_DEBUG set.

#include <string>

namespace ephport {

// Sends libbpf's messages to stderr only when EPHPORT_BPF_DEBUG is set.
void quiet_libbpf();

// "<what>: <strerror>" plus what to do about it: the capabilities for
// EPERM/EACCES, else how to see libbpf's log.
std::string describe_bpf_failure(const std::string& what, int error);

}  // namespace ephport
