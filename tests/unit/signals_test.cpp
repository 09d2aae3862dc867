#include "platform/signals.h"

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <csignal>
#include <functional>
#include <thread>

namespace ephport {
namespace {

using namespace std::chrono;
using namespace std::chrono_literals;

// Handlers and the stop flag are process-wide and cannot be undone, so each
// case runs in a forked child. Returns the child's exit code (0 = passed).
int in_child(const std::function<int()>& body) {
  pid_t child = ::fork();
  if (child == 0) {
    ::_exit(body());
  }
  int status = 0;
  ::waitpid(child, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

// Sleeps up to 10 s while another thread sends `signal_number` to the
// process after 100 ms. Returns 0 if the sleep ended early with a stop.
int stop_mid_sleep(int signal_number) {
  install_stop_handlers();
  if (stop_requested()) {
    return 1;
  }
  auto start = steady_clock::now();
  std::thread sender([signal_number] {
    std::this_thread::sleep_for(100ms);
    ::kill(::getpid(), signal_number);
  });
  sleep_until_stop_or(start + 10s);
  auto slept = steady_clock::now() - start;
  sender.join();
  if (!stop_requested()) {
    return 2;
  }
  return slept < 3s ? 0 : 3;
}

TEST(Signals, SigtermMidSleepReturnsPromptly) {
  EXPECT_EQ(in_child([] { return stop_mid_sleep(SIGTERM); }), 0);
}

TEST(Signals, SigintMidSleepReturnsPromptly) {
  EXPECT_EQ(in_child([] { return stop_mid_sleep(SIGINT); }), 0);
}

TEST(Signals, RaiseInTheSameThreadStopsTheNextSleep) {
  EXPECT_EQ(in_child([] {
              install_stop_handlers();
              std::raise(SIGTERM);
              auto start = steady_clock::now();
              sleep_until_stop_or(start + 10s);
              bool prompt = steady_clock::now() - start < 1s;
              return stop_requested() && prompt ? 0 : 1;
            }),
            0);
}

TEST(Signals, SleepsUntilTheDeadlineWithoutASignal) {
  EXPECT_EQ(in_child([] {
              install_stop_handlers();
              install_stop_handlers();  // a second call does nothing
              auto start = steady_clock::now();
              sleep_until_stop_or(start + 200ms);
              auto slept = steady_clock::now() - start;
              return !stop_requested() && slept >= 200ms && slept < 2s ? 0 : 1;
            }),
            0);
}

TEST(Signals, PastDeadlineReturnsAtOnce) {
  EXPECT_EQ(in_child([] {
              auto start = steady_clock::now();
              sleep_until_stop_or(start - 1s);  // no handlers installed: plain sleep
              return steady_clock::now() - start < 100ms ? 0 : 1;
            }),
            0);
}

TEST(Signals, OtherSignalsStillInterruptNothing) {
  // SIGUSR1 with a no-op handler wakes ppoll with EINTR; the sleep goes on.
  EXPECT_EQ(in_child([] {
              install_stop_handlers();
              std::signal(SIGUSR1, [](int) {});
              auto start = steady_clock::now();
              std::thread sender([] {
                std::this_thread::sleep_for(50ms);
                ::kill(::getpid(), SIGUSR1);
              });
              sleep_until_stop_or(start + 300ms);
              sender.join();
              return !stop_requested() && steady_clock::now() - start >= 300ms ? 0 : 1;
            }),
            0);
}

}  // namespace
}  // namespace ephport
