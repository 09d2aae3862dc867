#pragma once
// The subcommands. Each registers its options on a CLI11 app and returns the
// function that runs it. Wiring only: the work is in collect/, analyze/,
// output/.

#include <CLI/CLI.hpp>
#include <functional>

namespace ephport {

using CommandRunner = std::function<int()>;

CommandRunner add_snapshot_command(CLI::App& app);
CommandRunner add_log_command(CLI::App& app);
CommandRunner add_analyze_command(CLI::App& app);
// Monitoring-plugin mode: answers on stdout, exits 0-3, never throws.
CommandRunner add_check_command(CLI::App& app);
// Prometheus exporter and JSON API; runs until SIGINT/SIGTERM.
CommandRunner add_serve_command(CLI::App& app);

// Entry point used by main(): parses argv, runs the chosen command, returns
// the exit code. Usage errors print one line and return 2; in check mode
// they print an UNKNOWN status line on stdout and return 3.
int run_cli(int argc, char** argv);

}  // namespace ephport
