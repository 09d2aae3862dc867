// `ephport check`: monitoring-plugin mode (Nagios, Icinga, Sensu, ...).
// Wiring only: analyze/plugin_check.h decides, output/plugin_output.h
// renders, platform/deadline_child.h bounds the time.
//
// Every outcome is one status line on stdout and an exit code of the plugin
// convention: 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN. Usage errors and
// failures (bad namespace, netlink refused, timeout) are UNKNOWN with the
// reason on the status line; nothing is left for main() to report.

#include <fcntl.h>
#include <fmt/format.h>
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <cstring>
#include <memory>

#include "analyze/plugin_check.h"
#include "cli/commands.h"
#include "cli/common_options.h"
#include "output/plugin_output.h"
#include "pipeline/netns_all.h"
#include "platform/deadline_child.h"
#include "util/error.h"
#include "util/fd.h"

namespace ephport {

namespace {
struct CheckOptions {
  CommonOptions common;
  std::string warning;  // empty: the metric's default
  std::string critical;
  std::string metric = "pressure";
  double timeout_seconds = 10;
  int verbosity = 0;
  bool version = false;
};

int exit_code(PluginState state) {
  return static_cast<int>(state);
}

int answer_unknown(std::string_view reason) {
  fmt::print("{}", render_plugin_unknown(reason));
  return exit_code(PluginState::unknown);
}

// Validates a threshold at parse time, so a bad one is a usage error (3).
CLI::Validator threshold_validator() {
  return CLI::Validator(
      [](std::string& text) -> std::string {
        try {
          PluginRange::parse(text, "");  // CLI11 names the option
        } catch (const InputError& error) {
          return error.what();
        }
        return {};
      },
      "RANGE");
}

CheckSpec to_spec(const CheckOptions& options) {
  CheckSpec spec;
  spec.metric = parse_check_metric(options.metric);
  if (!options.warning.empty()) {
    spec.warning = PluginRange::parse(options.warning, "--warning");
  }
  if (!options.critical.empty()) {
    spec.critical = PluginRange::parse(options.critical, "--critical");
  }
  if (spec.metric == CheckMetric::connect_free && options.common.proto == "udp") {
    throw InputError(
        "--metric connect_free is a TCP figure; for UDP check bind_free (connect() on UDP "
        "takes its port by bind)");
  }
  return spec;
}

// The child's whole job: sample, decide, render. Never throws.
ChildAnswer check_once(const CheckOptions& options, const SampleOptions& sample,
                       const CheckSpec& spec) {
  // Notes on stderr would reach the monitoring system's output mixed with
  // the answer; -v shows the one that matters (why the bind state is estimated).
  UniqueFd null(::open("/dev/null", O_WRONLY | O_CLOEXEC));
  if (null.valid()) {
    ::dup2(null.get(), STDERR_FILENO);
  }
  try {
    options.common.enter_namespace();
    const CheckResult result = evaluate_check(take_sample(sample, nullptr), spec);
    return {exit_code(result.state), render_plugin_output(result, options.verbosity)};
  } catch (const std::exception& error) {
    return {exit_code(PluginState::unknown), render_plugin_unknown(error.what())};
  }
}

int run_check(const CheckOptions& options) {
  if (options.version) {
    fmt::print("ephport {}\n", EPHPORT_VERSION);
    return exit_code(PluginState::ok);
  }
  SampleOptions sample;
  CheckSpec spec;
  try {
    if (options.common.all_namespaces()) {
      throw InputError(
          "--netns all: check watches one namespace; define one service per namespace "
          "(--netns NAME)");
    }
    sample = options.common.to_sample_options();
    spec = to_spec(options);
  } catch (const InputError& error) {
    return answer_unknown(error.what());
  }
  // The check needs no process owners: none of its figures depends on them,
  // and scanning every /proc/PID/fd is the slowest part of a sample.
  sample.collect.owners = false;
  // The destination with the least free ports is kept whatever --top says;
  // -v lists up to --top destinations.
  const auto timeout = std::chrono::milliseconds(std::llround(options.timeout_seconds * 1000));
  ChildOutcome outcome;
  try {
    outcome = run_with_deadline([&] { return check_once(options, sample, spec); }, timeout);
  } catch (const RuntimeError& error) {
    return answer_unknown(error.what());
  }
  using Status = ChildOutcome::Status;
  switch (outcome.status) {
    case Status::answered:
      if (outcome.exit_code >= 0 && outcome.exit_code <= 3 && !outcome.text.empty()) {
        fmt::print("{}", outcome.text);
        return outcome.exit_code;
      }
      return answer_unknown(
          fmt::format("the check ended with code {} and no answer", outcome.exit_code));
    case Status::threw:
      return answer_unknown(outcome.text);
    case Status::crashed:
      return answer_unknown(fmt::format("the collection crashed (signal {}: {})", outcome.exit_code,
                                        ::strsignal(outcome.exit_code)));
    case Status::exited:
      return answer_unknown(
          fmt::format("the collection ended with code {} and no answer", outcome.exit_code));
    case Status::timed_out:
      break;
  }
  return answer_unknown(fmt::format(
      "no answer within the {} s timeout: the collection did not finish (raise -t/--timeout)",
      options.timeout_seconds));
}
}  // namespace

CommandRunner add_check_command(CLI::App& app) {
  auto options = std::make_shared<CheckOptions>();
  CLI::App* command = app.add_subcommand(
      "check",
      "Monitoring-plugin mode (Nagios/Icinga): one status line with perfdata; exit 0 OK, "
      "1 WARNING, 2 CRITICAL, 3 UNKNOWN");
  add_common_options(*command, options->common, /*netns_all=*/false);
  command
      ->add_option("-w,--warning", options->warning,
                   "WARNING range in plugin syntax (N, N:, ~:N, N:M, @N:M) for the checked "
                   "figure (default: 80 for pressure; fewer than 20% of capacity free for "
                   "bind_free/connect_free)")
      ->check(threshold_validator());
  command
      ->add_option("-c,--critical", options->critical,
                   "CRITICAL range, same syntax (default: 95 for pressure; fewer than 5% of "
                   "capacity free for bind_free/connect_free)")
      ->check(threshold_validator());
  command
      ->add_option("--metric", options->metric,
                   "Figure the thresholds apply to: pressure (percent, worst address or "
                   "destination), bind_free (fewest free bind(0) ports of an address), "
                   "connect_free (TCP: fewest free connect() ports of a destination)")
      ->check(CLI::IsMember({"pressure", "bind_free", "connect_free"}))
      ->capture_default_str();
  command
      ->add_option("-t,--timeout", options->timeout_seconds,
                   "Seconds after which the check gives up and answers UNKNOWN")
      ->check(CLI::Range(0.1, 3600.0))
      ->capture_default_str();
  command->add_flag("-v,--verbose", options->verbosity,
                    "More lines after the status line: the worst 5 rows per protocol; -vv 20; "
                    "-vvv all (up to --top destinations)");
  command->add_flag("-V,--version", options->version, "Print the version and exit");
  return [options, command]() {
    if (!command->parsed()) {
      return -1;
    }
    try {
      return run_check(*options);
    } catch (const std::exception& error) {  // e.g. out of memory before the fork
      return answer_unknown(error.what());
    }
  };
}

}  // namespace ephport
