#include <fmt/format.h>

#include <string_view>
#include <vector>

#include "analyze/plugin_range.h"
#include "cli/commands.h"
#include "output/plugin_output.h"
#include "util/error.h"

namespace ephport {

namespace {
bool is_subcommand(std::string_view word) {
  return word == "snapshot" || word == "log" || word == "analyze" || word == "check" ||
         word == "serve";
}

// `ephport [options]` means `ephport snapshot [options]`; `ephport help`
// means `ephport --help`. A first word that is neither an option nor a
// command is reported as an unknown command, not as an argument snapshot
// did not expect.
std::vector<std::string> with_default_command(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  if (!args.empty() && args[0] == "help") {
    args[0] = "--help";
  }
  bool top_level_flag = !args.empty() && (args[0] == "-h" || args[0] == "--help" ||
                                          args[0] == "--version" || args[0] == "-V");
  if (!args.empty() && !args[0].starts_with('-') && !is_subcommand(args[0])) {
    throw InputError(fmt::format(
        "unknown command '{}'; the commands are snapshot, log, analyze, check and serve (see "
        "'ephport --help')",
        args[0]));
  }
  if (args.empty() || (!is_subcommand(args[0]) && !top_level_flag)) {
    args.insert(args.begin(), "snapshot");
  }
  return args;
}
}  // namespace

int run_cli(int argc, char** argv) {
  CLI::App app{"ephport: detect ephemeral port exhaustion before it breaks a service"};
  app.name("ephport");
  // The same line as `check -V`: the plugin convention prints the name too.
  app.set_version_flag("--version,-V", "ephport " EPHPORT_VERSION);
  app.require_subcommand(0, 1);
  std::vector<CommandRunner> runners = {add_snapshot_command(app), add_log_command(app),
                                        add_analyze_command(app), add_check_command(app),
                                        add_serve_command(app)};
  std::vector<std::string> args = with_default_command(argc, argv);
  std::string command = args.empty() ? std::string("snapshot") : args[0];
  try {
    std::vector<std::string> reversed(args.rbegin(), args.rend());  // CLI11 wants them reversed
    app.parse(reversed);
  } catch (const CLI::ParseError& error) {
    if (error.get_exit_code() == 0) {  // --help, --version
      return app.exit(error);
    }
    std::string hint = is_subcommand(command) ? "ephport " + command + " --help" : "ephport --help";
    if (command == "check") {
      // A monitoring system reads stdout and the plugin codes: usage errors are UNKNOWN.
      fmt::print("{}", render_plugin_unknown(fmt::format("{} (see '{}')", error.what(), hint)));
      return static_cast<int>(PluginState::unknown);
    }
    fmt::print(stderr, "ephport: {} (see '{}')\n", error.what(), hint);
    return kExitUsage;
  }
  for (const CommandRunner& runner : runners) {
    int code = runner();
    if (code >= 0) {
      return code;
    }
  }
  return kExitOk;
}

}  // namespace ephport
