// ephport: measures how close each source address and destination is to
// running out of ephemeral ports. Exit codes: 0 ok, 1 runtime failure,
// 2 usage or input error.

#include <fmt/format.h>

#include <exception>

#include "cli/commands.h"
#include "util/error.h"
#include "util/escape.h"

namespace {
// An error is one line on stderr, whatever outside text it quotes: escaped
// (every reader escapes already; this is the last stop) and bounded.
constexpr size_t kMaxMessageBytes = 2048;
}  // namespace

int main(int argc, char** argv) {
  try {
    return ephport::run_cli(argc, argv);
  } catch (const ephport::FatalError& error) {
    fmt::print(stderr, "ephport: {}\n", ephport::excerpt(error.what(), kMaxMessageBytes));
    return error.exit_code();
  } catch (const std::exception& error) {
    fmt::print(stderr, "ephport: internal error: {}\n",
               ephport::excerpt(error.what(), kMaxMessageBytes));
    return ephport::kExitRuntime;
  }
}
