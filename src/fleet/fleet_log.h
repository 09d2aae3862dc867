#pragma once
// `ephport log --computers HOST:PORT,...`: the log loop over remote
// `ephport serve` instances instead of this host (fleet/remote_snapshots.h,
// fleet/fleet_rows.h). Sampling options are the remote exporters' own.

#include <string>

#include "output/format.h"
#include "platform/append_file.h"

namespace ephport {

struct FleetLogOptions {
  std::string computers;  // comma-separated [http://|https://]HOST:PORT
  std::string ca_file;
  std::string auth_file;
  double timeout = 5;  // seconds, per host and sample
  Format format = Format::table;
  std::string output;
  Rotation rotation;
  double interval = 60;
  int count = 0;
  size_t console_width = 0;  // the terminal's, for the table on stdout (0: every column)
};

// Validates (InputError), then loops like `log`. Returns the exit code.
int run_fleet_log(const FleetLogOptions& options);

}  // namespace ephport
