#pragma once
// Work with a hard deadline: `work` runs in a forked child, the parent waits
// for its answer at most `timeout` and then answers without it, whatever
// the child does (blocks in open() or a netlink read, loops, crashes).
// A timer signal could not promise that: a blocked system call may ignore
// it, and a thread stuck in the kernel holds up the exit of its process.
// A child stuck where even SIGKILL waits (uninterruptible sleep) is killed
// and left behind; the parent does not wait for it to go.

#include <chrono>
#include <cstddef>
#include <functional>
#include <string>

namespace ephport {

// What `work` answers: the exit code the child ends with, and its text.
struct ChildAnswer {
  int exit_code = 0;
  std::string text;
};

struct ChildOutcome {
  enum class Status {
    answered,   // the child returned from `work`: exit_code and text are its answer
    threw,      // `work` threw: text is the exception's message
    crashed,    // the child died by a signal: exit_code is the signal number
    exited,     // the child ended without answering (exit() inside work): exit_code
    timed_out,  // no answer within the timeout; the child was killed
  };
  Status status = Status::answered;
  int exit_code = 0;
  std::string text;
};

// Returns within `timeout` (the last 50 ms of it, at most half, are kept
// for killing a child that has not answered). Forks; the child runs `work`,
// writes its text to a pipe and _exit()s
// (no atexit handlers, no stdio flush: the parent owns those). The child is
// killed if the parent dies first (PR_SET_PDEATHSIG). At most `max_text`
// bytes of text are kept. Call from a single-threaded process; stdio is
// flushed before the fork. Throws RuntimeError if the pipe or the fork
// cannot be made.
ChildOutcome run_with_deadline(const std::function<ChildAnswer()>& work,
                               std::chrono::milliseconds timeout, size_t max_text = 1 << 20);

}  // namespace ephport
