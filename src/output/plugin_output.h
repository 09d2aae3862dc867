#pragma once
// Monitoring-plugin output (Nagios/Icinga plugin guidelines): one status
// line, `|`, the perfdata; with -v, more lines after it (the worst rows).
//
//   EPHPORT WARNING - tcp pressure 82% (10.0.0.1 -> 10.0.0.2:443: 2950 of
//   16384 left), udp pressure 0.4% | 'tcp_pressure'=82%;80;95;0;100 ...
//
// Perfdata per protocol P (labels always quoted; thresholds as given, on
// the checked figure only):
//   'P_pressure'=X%;w;c;0;100  'P_in_use'=N;;;0;CAP  'P_bind_free'=N;w;c;0;CAP
//   'P_connect_free'=N;w;c;0;CAP (TCP)  'P_sockets'=N;;;0  'P_time_wait'=N;;;0 (TCP)

#include <string>
#include <string_view>

#include "analyze/plugin_check.h"

namespace ephport {

// The whole output, ending in '\n'. `verbosity` 0: the status line with
// perfdata; 1, 2, 3: then a line per protocol (range, capacity, bind
// state) and its worst 5, 20 or all rows.
std::string render_plugin_output(const CheckResult& result, int verbosity);

// "EPHPORT UNKNOWN - <reason>\n": a failure, on one line (newlines and '|'
// in the reason are replaced, so it cannot be read as perfdata).
std::string render_plugin_unknown(std::string_view reason);

// A perfdata label in single quotes, a quote inside doubled.
std::string perfdata_label(std::string_view label);

// A perfdata number: at most two decimals, no exponent, no trailing zeros.
std::string perfdata_number(double value);

}  // namespace ephport
