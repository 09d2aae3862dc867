#include <fmt/format.h>

#include <memory>

#include "analyze/process_filter.h"
#include "cli/commands.h"
#include "cli/common_options.h"
#include "collect/import/capture_file.h"
#include "output/address_rows.h"
#include "output/json.h"
#include "output/netns_output.h"
#include "output/sink.h"
#include "output/snapshot_view.h"
#include "pipeline/netns_all.h"
#include "platform/terminal.h"
#include "util/error.h"

namespace ephport {

namespace {
struct SnapshotOptions {
  CommonOptions common;
  Format format = Format::table;
  std::string save;
  bool processes = false;
  bool all_addresses = false;  // --all-addresses
  bool wide = false;           // --wide: every column, whatever the terminal
  ProcessFilter filter;

  // The width the table fits: the terminal's, or 0 (any) with --wide or
  // when standard output is not a terminal.
  size_t table_width() const { return wide ? 0 : stdout_terminal_width(); }
};

// The process list is a section of the table and an array of the JSON; a
// CSV row is an address, so asking for processes in CSV is a usage error,
// not a list silently dropped.
void check_process_options(const SnapshotOptions& options, bool processes) {
  if (processes && options.format == Format::csv) {
    throw InputError(
        "--processes, --pid and --process list processes in the table and in JSON; CSV holds "
        "the address rows only (use --format table or json)");
  }
}

// A --pid or --process that matched nothing is said, not shown as an empty
// list that reads like "no such process holds ports".
void note_unmatched_filter(const Analysis& analysis, const ProcessFilter& filter) {
  if (!filter.empty() && analysis.processes.empty() && analysis.owners.resolved) {
    fmt::print(stderr,
               "ephport: note: no process matching --pid/--process holds a port of the range\n");
  }
}

std::string render(const Analysis& analysis, const SnapshotOptions& options, bool processes) {
  const bool all = options.all_addresses;
  return render_snapshot(
      options.format, {[&analysis, all](bool mark) { return address_sheet(analysis, mark, all); },
                       [&analysis] { return render_json(analysis); },
                       [&analysis, &options, processes, all] {
                         return render_snapshot_table(analysis, processes, all,
                                                      options.table_width());
                       }});
}

std::string render(const NetnsSamples& samples, const SnapshotOptions& options) {
  const bool all = options.all_addresses;
  return render_snapshot(
      options.format,
      {[&samples, all](bool mark) { return netns_address_sheet(samples, mark, all); },
       [&samples] { return render_netns_json(samples); },
       [&samples, &options, all] {
         return render_netns_snapshot_table(samples, all, options.table_width());
       }});
}

void add_process_options(CLI::App& command, SnapshotOptions& options) {
  command.add_flag("--processes", options.processes,
                   "Add the processes holding ephemeral ports, and the TIME_WAIT/orphaned "
                   "sockets no process holds, to the table");
  command.add_option("--pid", options.filter.pids,
                     "Show only this process (repeatable; implies --processes)");
  command.add_option("--process", options.filter.names,
                     "Show only processes with this name or executable base name (repeatable; "
                     "implies --processes)");
  add_all_addresses_flag(command, options.all_addresses);
  command.add_flag("--wide", options.wide,
                   "Print every column of the table even when the terminal is narrower "
                   "(by default a table on a terminal drops columns to fit it)");
}
}  // namespace

CommandRunner add_snapshot_command(CLI::App& app) {
  auto options = std::make_shared<SnapshotOptions>();
  CLI::App* command = app.add_subcommand(
      "snapshot", "One sample: ephemeral port usage per address and destination (default)");
  add_common_options(*command, options->common);
  add_format_option(*command, options->format, {Format::table, Format::csv, Format::json},
                    "Output format");
  command->add_option("--save", options->save,
                      "Also write the raw socket records and host facts to FILE "
                      "(for `ephport analyze`)");
  add_process_options(*command, *options);
  return [options, command]() {
    if (!command->parsed()) {
      return -1;
    }
    SampleOptions sample = options->common.to_sample_options();
    // The table's notes say why figures are estimated; stderr would repeat it.
    sample.bind_state_note_on_stderr = options->format != Format::table;
    bool processes = options->processes || !options->filter.empty();
    check_process_options(*options, processes);
    if (processes && options->common.no_owners) {
      throw InputError("--processes, --pid and --process need owners; drop --no-owners");
    }
    if (options->common.all_namespaces()) {
      if (!options->save.empty()) {
        throw InputError("--save records one namespace; it cannot be used with --netns all");
      }
      if (processes) {
        throw InputError(
            "--processes/--pid/--process show one namespace; with --netns all use --format json "
            "(processes[] per namespace)");
      }
      fmt::print("{}", render(take_netns_samples(sample), *options));
      return 0;
    }
    options->common.enter_namespace();
    std::unique_ptr<CaptureWriter> save;
    if (!options->save.empty()) {
      save = std::make_unique<CaptureWriter>(options->save);
    }
    Analysis analysis = take_sample(sample, save.get());
    if (save) {
      save->finish();
    }
    keep_matching_processes(analysis, options->filter);
    note_unmatched_filter(analysis, options->filter);
    fmt::print("{}", render(analysis, *options, processes));
    return 0;
  };
}

CommandRunner add_analyze_command(CLI::App& app) {
  auto options = std::make_shared<SnapshotOptions>();
  auto file = std::make_shared<std::string>();
  CLI::App* command =
      app.add_subcommand("analyze",
                         "Analyse a file written by `ephport snapshot --save`, or an evidence "
                         "bundle of `ephport log`");
  command
      ->add_option("FILE", *file,
                   "Saved snapshot, or an evidence bundle's directory or sockets.capture.jsonl "
                   "(its processes named from the bundle's processes.json)")
      ->required();
  add_analysis_options(*command, options->common);
  add_format_option(*command, options->format, {Format::table, Format::csv, Format::json},
                    "Output format");
  add_process_options(*command, *options);
  return [options, file, command]() {
    if (!command->parsed()) {
      return -1;
    }
    const bool processes = options->processes || !options->filter.empty();
    check_process_options(*options, processes);
    Analysis analysis = analyze_capture(*file, options->common.to_sample_options());
    keep_matching_processes(analysis, options->filter);
    note_unmatched_filter(analysis, options->filter);
    fmt::print("{}", render(analysis, *options, processes));
    return 0;
  };
}

}  // namespace ephport
