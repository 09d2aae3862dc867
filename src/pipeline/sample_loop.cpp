#include "pipeline/sample_loop.h"

#include <fmt/format.h>

#include <chrono>
#include <cstdio>

#include "platform/append_file.h"
#include "platform/signals.h"
#include "util/error.h"

namespace ephport {

int run_sample_loop(double interval_seconds, int count, AppendFile& log,
                    const std::function<RecordRenderer(int taken)>& take,
                    const std::function<void()>& after, size_t console_width) {
  install_stop_handlers();
  auto interval = std::chrono::duration_cast<std::chrono::steady_clock::duration>(
      std::chrono::duration<double>(interval_seconds));
  auto next = std::chrono::steady_clock::now();
  int dropped = 0;
  for (int taken = 0; count == 0 || taken < count; ++taken) {
    RecordRenderer record = take(taken);
    fmt::print("{}", record(taken == 0, console_width));
    std::fflush(stdout);
    try {
      log.append(record(log.empty(), 0));
    } catch (const RuntimeError& error) {
      // A full disk loses this sample, not the log or the loop.
      fmt::print(stderr, "ephport: {}\n", error.what());
      ++dropped;
    }
    if (after) {
      after();
    }
    if (stop_requested() || (count != 0 && taken + 1 == count)) {
      break;
    }
    next += interval;
    sleep_until_stop_or(next);
    if (stop_requested()) {
      break;
    }
  }
  return dropped;
}

}  // namespace ephport
