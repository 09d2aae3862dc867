#pragma once
// The sysctls that decide ephemeral port allocation, read from
// <proc_root>/sys, and the host facts built on them.
// The parsers are pure: they take a file's content and return a Result whose
// error message names what is wrong; the reader turns that into a
// RuntimeError naming the file.

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "snapshot/host_facts.h"
#include "util/result.h"

namespace ephport {

// Reads computer name, UTC time and the sysctls of the current network
// namespace. Throws RuntimeError naming the file that could not be read.
HostFacts read_host_facts(const std::string& proc_root);

// net.ipv4.ip_local_port_range: "32768\t60999\n". Both in 1..65535, first <=
// last (the kernel allows first == last).
// (snapshot/port_range_parse.h: parse_blank_separated_port_range.)
Result<PortRange> parse_port_range(std::string_view content);

// net.ipv4.ip_local_reserved_ports: "1,2-5,8080" or empty. Each port in
// 0..65535 (the kernel accepts 0), a range's first <= last. Ranges are
// returned as written (not sorted or merged).
Result<std::vector<PortRange>> parse_port_list(std::string_view content);

// A sysctl holding one integer ("1\n").
Result<int> parse_sysctl_int(std::string_view content);

// The sysctls worth keeping as evidence of port exhaustion (allocation,
// TIME_WAIT and orphan limits, file limits), as dotted name and raw value
// (trailing newline removed); ones this kernel lacks are left out.
std::vector<std::pair<std::string, std::string>> read_evidence_sysctls(
    const std::string& proc_root);

}  // namespace ephport
