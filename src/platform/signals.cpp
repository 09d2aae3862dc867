#include "platform/signals.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <poll.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <csignal>
#include <cstring>
#include <mutex>

#include "util/error.h"

namespace ephport {

namespace {

// The handler sets the flag and writes a byte to a pipe (the self-pipe
// trick). The sleeper polls the pipe, so a signal that lands between its
// check of the flag and the start of the sleep still wakes it. The byte is
// never read back: once a stop is requested every later sleep returns at once.
std::atomic<bool> g_stop{false};
std::atomic<bool> g_reopen{false};
std::atomic<int> g_wake_write_fd{-1};
int g_wake_read_fd = -1;
std::once_flag g_install_once;

static_assert(std::atomic<bool>::is_always_lock_free && std::atomic<int>::is_always_lock_free,
              "signal handlers need lock-free atomics");

extern "C" void on_stop_signal(int /*signal*/) {
  int saved_errno = errno;
  g_stop.store(true);
  int fd = g_wake_write_fd.load();
  if (fd >= 0) {
    // Non-blocking: when the pipe is full a wake-up is already pending.
    [[maybe_unused]] ssize_t ignored = ::write(fd, "x", 1);
  }
  errno = saved_errno;
}

// SIGHUP does not wake the sleeper: the reopen happens at the next sample,
// and records written meanwhile land whole in the renamed file.
extern "C" void on_reopen_signal(int /*signal*/) {
  g_reopen.store(true);
}

extern "C" void on_pipe_signal(int /*signal*/) {}

void install_handler(int signal_number, void (*handler)(int)) {
  struct sigaction action {};
  action.sa_handler = handler;
  sigemptyset(&action.sa_mask);
  action.sa_flags = 0;  // no SA_RESTART: blocking calls return EINTR
  if (::sigaction(signal_number, &action, nullptr) != 0) {
    throw RuntimeError(fmt::format("cannot install a handler for {}: {}",
                                   sigabbrev_np(signal_number), std::strerror(errno)));
  }
}

void install_once() {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC | O_NONBLOCK) != 0) {
    throw RuntimeError(
        fmt::format("cannot install signal handlers: pipe: {}", std::strerror(errno)));
  }
  g_wake_read_fd = fds[0];
  g_wake_write_fd.store(fds[1]);

  install_handler(SIGINT, on_stop_signal);
  install_handler(SIGTERM, on_stop_signal);
  install_handler(SIGHUP, on_reopen_signal);
  install_handler(SIGPIPE, on_pipe_signal);
}

}  // namespace

void install_stop_handlers() {
  std::call_once(g_install_once, install_once);
}

bool stop_requested() {
  return g_stop.load();
}

bool take_reopen_request() {
  return g_reopen.exchange(false);
}

void sleep_until_stop_or(std::chrono::steady_clock::time_point deadline) {
  using std::chrono::steady_clock;
  while (!stop_requested()) {
    auto left = deadline - steady_clock::now();
    if (left <= steady_clock::duration::zero()) {
      return;
    }
    auto seconds = std::chrono::duration_cast<std::chrono::seconds>(left);
    auto nanoseconds = std::chrono::duration_cast<std::chrono::nanoseconds>(left - seconds);
    struct timespec timeout {
      static_cast<time_t>(seconds.count()), static_cast<long>(nanoseconds.count())
    };
    struct pollfd wake {
      g_wake_read_fd, POLLIN, 0
    };
    // With a negative fd (no handlers installed) ppoll just sleeps.
    int ready = ::ppoll(&wake, 1, &timeout, nullptr);
    if (ready > 0) {
      return;
    }
    // 0: timed out (the loop re-checks the clock); -1/EINTR: a signal.
  }
}

}  // namespace ephport
