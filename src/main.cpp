// ephport: measures how close each source address and destination is to
// running out of ephemeral ports. Exit codes: 0 ok, 1 runtime failure,
// 2 usage or input error.

#include <fmt/format.h>

#include <exception>

#include "cli/commands.h"
#include "util/error.h"

int main(int argc, char** argv) {
  try {
    return ephport::run_cli(argc, argv);
  } catch (const ephport::FatalError& error) {
    fmt::print(stderr, "ephport: {}\n", error.what());
    return error.exit_code();
  } catch (const std::exception& error) {
    fmt::print(stderr, "ephport: internal error: {}\n", error.what());
    return ephport::kExitRuntime;
  }
}
