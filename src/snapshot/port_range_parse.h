#pragma once
// The two ways a port range is written, parsed with the same port-number
// rules (util/parse_number.h): the sysctl net.ipv4.ip_local_port_range
// ("32768\t60999\n") and the command line's --range ("FIRST-LAST").

#include <cstdint>
#include <string_view>

#include "snapshot/host_facts.h"
#include "util/result.h"

namespace ephport {

// One port number in [minimum, 65535]. Errors: "'TEXT' is not a port number",
// "port number TEXT is out of range MIN-65535".
Result<uint16_t> parse_port_number(std::string_view text, int64_t minimum);

// "FIRST<blanks>LAST" with surrounding blanks (space, tab, newline): both in
// 1..65535, FIRST <= LAST (FIRST == LAST allowed). Errors: "'TEXT' is not two
// port numbers", a parse_port_number() error, "range FIRST-LAST ends before it
// starts".
Result<PortRange> parse_blank_separated_port_range(std::string_view content);

// "FIRST-LAST", nothing else: both in 1..65535, FIRST <= LAST. The error
// message is parse_port_number()'s or "range ... ends before it starts"; the
// command line replaces it with its own usage text.
Result<PortRange> parse_dash_separated_port_range(std::string_view text);

}  // namespace ephport
