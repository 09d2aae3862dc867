#pragma once
// The seed script's loop, shared by `log` and `log --computers`: a sample
// every interval, `count` times (0: until SIGINT/SIGTERM, which end it after
// the sample in hand), each printed and appended whole to the log. A failed
// append (full disk) loses that sample only: it is said on stderr and the
// loop goes on. The log is followed by name (renamed, deleted or replaced:
// reopened, said once on stderr) and reopened on SIGHUP; --max-size rotates
// it (platform/append_file.h). When stdout's reader goes away (EPIPE) the
// sample in hand is still logged, then the loop ends as if stopped.

#include <cstddef>
#include <functional>
#include <string>

namespace ephport {

class AppendFile;

// Renders one sample's record; `header` asks for the CSV header first;
// `width` is the terminal's a table must fit (0: any, and always for the
// log file).
using RecordRenderer = std::function<std::string(bool header, size_t width)>;

// Runs the loop: `take(taken)` takes sample number `taken` (from 0) and
// returns its renderer; the record goes to stdout (header on the first,
// fitting `console_width`) and is appended whole to `log` (header when the
// file is empty, new or just rotated); then `after()` runs, if given.
// Installs the stop handlers (signals.h). Returns how many samples could not be appended.
int run_sample_loop(double interval_seconds, int count, AppendFile& log,
                    const std::function<RecordRenderer(int taken)>& take,
                    const std::function<void()>& after = {}, size_t console_width = 0);

}  // namespace ephport
