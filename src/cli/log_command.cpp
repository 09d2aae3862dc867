#include <fmt/format.h>

#include <cmath>
#include <memory>

#include "analyze/trend.h"
#include "cli/commands.h"
#include "cli/common_options.h"
#include "evidence/evidence_recorder.h"
#include "fleet/fleet_log.h"
#include "output/address_rows.h"
#include "output/json.h"
#include "output/netns_output.h"
#include "output/sink.h"
#include "pipeline/netns_all.h"
#include "pipeline/sample_loop.h"
#include "platform/append_file.h"
#include "platform/terminal.h"
#include "util/error.h"

namespace ephport {

namespace {
struct LogOptions {
  CommonOptions common;
  Format format = Format::table;
  std::string output = "EphemeralPortStats.log";
  Rotation rotation;  // --max-size, --max-files
  double interval = 60;
  int count = 0;
  EvidenceOptions evidence;
  FleetLogOptions fleet;  // --computers and its options
  bool all_addresses = false;
  bool wide = false;  // --wide: every column on the console too
};

ShapeOutput address_output(const Analysis& analysis, bool all) {
  return {[&analysis, all](bool mark) { return address_sheet(analysis, mark, all); },
          [&analysis] { return render_jsonl(analysis); }, nullptr};
}

ShapeOutput namespaces_output(const NetnsSamples& samples, bool all) {
  return {[&samples, all](bool mark) { return netns_address_sheet(samples, mark, all); },
          [&samples] { return render_netns_jsonl(samples); }, nullptr};
}

int run_log(const LogOptions& options) {
  SampleOptions sample = options.common.to_sample_options();
  // Ports that free themselves before the next sample; rates over the samples.
  sample.expiry_window_ms = static_cast<uint32_t>(std::lround(options.interval * 1000));
  Trend trend;
  // Fail before the loop if the log cannot be opened for appending.
  AppendFile log = AppendFile::open(options.output, {}, options.rotation);
  options.common.enter_namespace();
  SampleSession session(sample);
  std::unique_ptr<EvidenceRecorder> evidence;
  if (!options.evidence.disabled && options.common.all_namespaces()) {
    fmt::print(stderr,
               "ephport: note: evidence bundles are per namespace; none with --netns all\n");
  } else if (!options.evidence.disabled) {
    evidence = std::make_unique<EvidenceRecorder>(options.evidence, options.output, session);
  }
  int evidence_failed = 0;
  Analysis analysis;
  NetnsSamples all;  // --netns all: every namespace in each sample
  int dropped = run_sample_loop(
      options.interval, options.count, log,
      [&](int) -> RecordRenderer {
        if (options.common.all_namespaces()) {
          all = take_netns_samples(sample);
          trend.observe_and_annotate(all.namespaces);  // series kept apart per namespace
          return [&](bool header, size_t width) {
            return render_log_record(options.format, namespaces_output(all, options.all_addresses),
                                     header, width);
          };
        }
        analysis = session.take(nullptr);
        trend.observe_and_annotate(analysis);
        return [&](bool header, size_t width) {
          return render_log_record(options.format, address_output(analysis, options.all_addresses),
                                   header, width);
        };
      },
      [&] {
        if (evidence && !evidence->after_sample(analysis)) {
          ++evidence_failed;
        }
      },
      options.wide ? 0 : stdout_terminal_width());
  if (dropped != 0) {
    fmt::print(stderr, "ephport: {} sample(s) could not be written to {}\n", dropped,
               options.output);
    return kExitRuntime;
  }
  if (evidence_failed != 0) {
    fmt::print(stderr, "ephport: {} evidence bundle(s) could not be written to {}\n",
               evidence_failed, evidence->directory());
    return kExitRuntime;
  }
  return kExitOk;
}
}  // namespace

CommandRunner add_log_command(CLI::App& app) {
  auto options = std::make_shared<LogOptions>();
  CLI::App* command = app.add_subcommand(
      "log", "Sample every --interval seconds: print and append to --output (the seed's loop)");
  add_common_options(*command, options->common);
  add_format_option(*command, options->format, {Format::table, Format::csv, Format::jsonl},
                    "Log format");
  command->add_option("--output,-o", options->output, "Log file, appended to, never truncated")
      ->capture_default_str();
  command
      ->add_option("--max-size", options->rotation.max_size,
                   "Rotate the log when a record would take it past SIZE bytes (K, M, G: "
                   "powers of 1024; 0 = never): --output becomes --output.1, .1 becomes .2, ...")
      ->transform(CLI::AsSizeValue(false))
      ->capture_default_str();
  command
      ->add_option("--max-files", options->rotation.max_files,
                   "--max-size: rotated files kept (--output.1 .. --output.N); the oldest is "
                   "deleted")
      ->check(CLI::Range(1, 1000))
      ->capture_default_str();
  command->add_option("--interval", options->interval, "Seconds between samples")
      ->check(CLI::Number)
      ->check(CLI::Range(0.1, 86400.0))
      ->capture_default_str();
  command->add_option("--count", options->count, "Samples to take (0 = until SIGINT/SIGTERM)")
      ->check(CLI::Range(0, 1000000));
  add_evidence_options(*command, options->evidence);
  add_all_addresses_flag(*command, options->all_addresses);
  command->add_flag("--wide", options->wide,
                    "Print every column of the table on the console even when the terminal is "
                    "narrower (the log file always has every column)");
  command->add_option("--computers", options->fleet.computers,
                      "Pull samples from remote `ephport serve` instances instead of this host: "
                      "HOST:PORT,... (HTTPS; http://HOST:PORT for plain HTTP)");
  command->add_option("--ca-file", options->fleet.ca_file,
                      "--computers: CA certificate(s) the servers' certificates must chain to "
                      "(default: the system's trust store)");
  command->add_option("--auth-file", options->fleet.auth_file,
                      "--computers: file whose first line is user:password (basic auth)");
  command
      ->add_option("--timeout", options->fleet.timeout,
                   "--computers: seconds each host has to answer, per sample")
      ->check(CLI::Range(0.1, 600.0))
      ->capture_default_str();
  return [options, command]() {
    if (!command->parsed()) {
      return -1;
    }
    if (!options->fleet.computers.empty()) {
      if (!options->common.netns.empty()) {
        throw InputError(
            "--netns samples this host; with --computers each remote serve samples "
            "its own namespace");
      }
      // Evidence is read from the sampled host's kernel and processes.
      for (const char* name :
           {"--evidence-at", "--evidence-every", "--evidence-keep", "--evidence-max-bytes",
            "--evidence-min-free", "--evidence-dir", "--heavy", "--capture", "--capture-size"}) {
        if (command->count(name) != 0) {
          throw InputError(std::string(name) +
                           ": evidence bundles are taken on the sampled host, not with "
                           "--computers");
        }
      }
      FleetLogOptions fleet = options->fleet;
      fleet.format = options->format;
      fleet.output = options->output;
      fleet.rotation = options->rotation;
      fleet.interval = options->interval;
      fleet.console_width = options->wide ? 0 : stdout_terminal_width();
      fleet.count = options->count;
      return run_fleet_log(fleet);
    }
    for (const char* name : {"--ca-file", "--auth-file", "--timeout"}) {
      if (command->count(name) != 0) {
        throw InputError(std::string(name) + " applies to --computers only");
      }
    }
    return run_log(*options);
  };
}

}  // namespace ephport
