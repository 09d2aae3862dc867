#include "pipeline/sample_loop.h"

#include <fmt/format.h>

#include <cerrno>
#include <chrono>
#include <cstdio>

#include "platform/append_file.h"
#include "platform/signals.h"
#include "util/error.h"

namespace ephport {

namespace {

// False when stdout is a pipe whose reader has gone (EPIPE; SIGPIPE is
// caught, see signals.h). Other errors are as before: ignored, the console
// is a courtesy, the log file the record.
bool print_to_console(const std::string& text) {
  errno = 0;
  size_t written = std::fwrite(text.data(), 1, text.size(), stdout);
  int flushed = std::fflush(stdout);
  return !((written != text.size() || flushed != 0) && errno == EPIPE);
}

}  // namespace

int run_sample_loop(double interval_seconds, int count, AppendFile& log,
                    const std::function<RecordRenderer(int taken)>& take,
                    const std::function<void()>& after, size_t console_width) {
  install_stop_handlers();
  auto interval = std::chrono::duration_cast<std::chrono::steady_clock::duration>(
      std::chrono::duration<double>(interval_seconds));
  auto next = std::chrono::steady_clock::now();
  int dropped = 0;
  bool console_closed = false;
  log.on_notice([](const std::string& text) { fmt::print(stderr, "ephport: note: {}\n", text); });
  for (int taken = 0; count == 0 || taken < count; ++taken) {
    RecordRenderer record = take(taken);
    // A reader that went away (`log | head -1`): this sample still goes to
    // the log file whole, then the loop ends quietly (exit 0).
    console_closed = !print_to_console(record(taken == 0, console_width));
    try {
      if (take_reopen_request()) {
        log.reopen(fmt::format("SIGHUP: reopened log file {}", log.path()));
      }
      log.append_record([&](bool header) { return record(header, 0); });
    } catch (const RuntimeError& error) {
      // A full disk loses this sample, not the log or the loop.
      fmt::print(stderr, "ephport: {}\n", error.what());
      ++dropped;
    }
    if (after) {
      after();
    }
    if (console_closed || stop_requested() || (count != 0 && taken + 1 == count)) {
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
