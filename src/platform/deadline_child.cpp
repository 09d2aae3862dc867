#include "platform/deadline_child.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <exception>
#include <string_view>
#include <thread>

#include "platform/write_all.h"
#include "util/error.h"
#include "util/fd.h"

namespace ephport {

namespace {
using Clock = std::chrono::steady_clock;

// The first byte the child writes says how `work` ended.
constexpr char kAnswered = 'A';
constexpr char kThrew = 'T';

// The end of the timeout kept for killing and reaping a child that did not
// answer (a killed child is normally reaped within a millisecond).
constexpr auto kReapGrace = std::chrono::milliseconds(50);

[[noreturn]] void child_main(const std::function<ChildAnswer()>& work, int out, pid_t parent) {
  // Die with the parent: a monitoring system that kills the plugin on its
  // own timeout must not leave a collection running.
  if (::prctl(PR_SET_PDEATHSIG, SIGKILL) != 0 || ::getppid() != parent) {
    ::_exit(127);
  }
  std::string message;
  int code = 0;
  try {
    ChildAnswer answer = work();
    code = answer.exit_code;
    message = kAnswered + answer.text;
  } catch (const std::exception& error) {
    message = kThrew + std::string(error.what());
  } catch (...) {
    message = kThrew + std::string("unknown exception");
  }
  // Best effort: a lost answer reads as no answer in the parent.
  (void)write_all(out, message);
  ::_exit(code);
}

// Reaps `pid` if it ends before `until`; false if it is still there.
bool reap_until(pid_t pid, Clock::time_point until, int& status) {
  for (;;) {
    const pid_t done = ::waitpid(pid, &status, WNOHANG);
    if (done == pid || (done < 0 && errno != EINTR)) {
      return done == pid;
    }
    if (Clock::now() >= until) {
      return false;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
}

ChildOutcome timed_out(pid_t pid, Clock::time_point until) {
  ::kill(pid, SIGKILL);
  int status = 0;
  reap_until(pid, until, status);  // else: left to init, once this process exits
  ChildOutcome outcome;
  outcome.status = ChildOutcome::Status::timed_out;
  return outcome;
}
}  // namespace

ChildOutcome run_with_deadline(const std::function<ChildAnswer()>& work,
                               std::chrono::milliseconds timeout, size_t max_text) {
  // The answer must come by `deadline`; what is left until `end` is for the kill.
  const Clock::time_point end = Clock::now() + timeout;
  const Clock::time_point deadline = end - std::min<Clock::duration>(kReapGrace, timeout / 2);
  std::array<int, 2> fds{};
  if (::pipe2(fds.data(), O_CLOEXEC) != 0) {
    throw RuntimeError(std::string("cannot create a pipe: ") + std::strerror(errno));
  }
  UniqueFd read_end(fds[0]);
  UniqueFd write_end(fds[1]);
  const pid_t parent = ::getpid();
  std::fflush(nullptr);  // or the child's copy of unwritten stdio could be written twice
  const pid_t pid = ::fork();
  if (pid < 0) {
    throw RuntimeError(std::string("cannot fork: ") + std::strerror(errno));
  }
  if (pid == 0) {
    read_end.reset();
    child_main(work, write_end.get(), parent);
  }
  write_end.reset();

  // Read until the child closes its end (it exits) or the deadline passes.
  std::string received;
  std::array<char, 4096> buffer{};
  for (;;) {
    const auto left = std::chrono::ceil<std::chrono::milliseconds>(deadline - Clock::now());
    if (left.count() <= 0) {
      return timed_out(pid, end);
    }
    pollfd ready{read_end.get(), POLLIN, 0};
    const int polled = ::poll(&ready, 1, static_cast<int>(left.count()));
    if (polled < 0 && errno != EINTR) {
      const int error_number = errno;
      timed_out(pid, end);
      throw RuntimeError(std::string("cannot wait for the collection: ") +
                         std::strerror(error_number));
    }
    if (polled <= 0) {
      continue;
    }
    const ssize_t got = ::read(read_end.get(), buffer.data(), buffer.size());
    if (got < 0 && errno == EINTR) {
      continue;
    }
    if (got <= 0) {
      break;
    }
    // Keep at most max_text + 1 bytes (the marker), but read on to EOF.
    const size_t room = max_text + 1 > received.size() ? max_text + 1 - received.size() : 0;
    received.append(buffer.data(), std::min(room, static_cast<size_t>(got)));
  }

  int status = 0;
  if (!reap_until(pid, deadline, status)) {
    return timed_out(pid, end);
  }
  ChildOutcome outcome;
  if (WIFSIGNALED(status)) {
    outcome.status = ChildOutcome::Status::crashed;
    outcome.exit_code = WTERMSIG(status);
    return outcome;
  }
  outcome.exit_code = WEXITSTATUS(status);
  if (received.empty()) {
    outcome.status = ChildOutcome::Status::exited;
    return outcome;
  }
  outcome.status =
      received.front() == kThrew ? ChildOutcome::Status::threw : ChildOutcome::Status::answered;
  outcome.text = received.substr(1);
  return outcome;
}

}  // namespace ephport
