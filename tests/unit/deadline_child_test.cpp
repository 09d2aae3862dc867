// run_with_deadline(): the answer of a child that finishes, and a bounded
// wait for one that blocks, spins, throws, crashes or exits without one.

#include "platform/deadline_child.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <stdexcept>

#include "temp_dir.h"

namespace ephport {
namespace {

using std::chrono::milliseconds;
using Clock = std::chrono::steady_clock;
using Status = ChildOutcome::Status;

// The elapsed time of `run`.
template <typename Run>
milliseconds timed(Run run) {
  const auto start = Clock::now();
  run();
  return std::chrono::duration_cast<milliseconds>(Clock::now() - start);
}

TEST(DeadlineChild, AnswerAndExitCodeComeBack) {
  ChildOutcome outcome = run_with_deadline(
      [] {
        return ChildAnswer{2, "EPHPORT CRITICAL\n"};
      },
      std::chrono::seconds(10));
  EXPECT_EQ(outcome.status, Status::answered);
  EXPECT_EQ(outcome.exit_code, 2);
  EXPECT_EQ(outcome.text, "EPHPORT CRITICAL\n");
}

TEST(DeadlineChild, EmptyAnswerIsStillAnAnswer) {
  ChildOutcome outcome = run_with_deadline(
      [] {
        return ChildAnswer{0, ""};
      },
      std::chrono::seconds(10));
  EXPECT_EQ(outcome.status, Status::answered);
  EXPECT_EQ(outcome.text, "");
}

// The real hang of `check --netns FIFO`: open() of a FIFO without a writer
// blocks in the kernel, and no signal but a fatal one ends it.
TEST(DeadlineChild, BlockedOpenIsCutAtTheDeadline) {
  testing::TempDir dir;
  const std::string fifo = dir.path() + "/never-written";
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  ChildOutcome outcome;
  const milliseconds took = timed([&] {
    outcome = run_with_deadline(
        [&] {
          ::open(fifo.c_str(), O_RDONLY);  // blocks: nobody opens it for writing
          return ChildAnswer{0, "opened?"};
        },
        milliseconds(300));
  });
  EXPECT_EQ(outcome.status, Status::timed_out);
  EXPECT_GE(took, milliseconds(250));  // the answer deadline: 300 - 50 for the kill
  EXPECT_LT(took, milliseconds(300 + 100)) << "the timeout must bound the call";
}

TEST(DeadlineChild, SpinningChildIsCutAtTheDeadline) {
  ChildOutcome outcome;
  const milliseconds took = timed([&] {
    outcome = run_with_deadline(
        [] {
          for (volatile bool spin = true; spin;) {
          }
          return ChildAnswer{};
        },
        milliseconds(200));
  });
  EXPECT_EQ(outcome.status, Status::timed_out);
  EXPECT_LT(took, milliseconds(200 + 100));
}

TEST(DeadlineChild, ThrowBecomesTheMessage) {
  ChildOutcome outcome =
      run_with_deadline([]() -> ChildAnswer { throw std::runtime_error("netlink refused"); },
                        std::chrono::seconds(10));
  EXPECT_EQ(outcome.status, Status::threw);
  EXPECT_EQ(outcome.text, "netlink refused");
}

TEST(DeadlineChild, CrashIsReportedWithTheSignal) {
  ChildOutcome outcome =
      run_with_deadline([]() -> ChildAnswer { std::abort(); }, std::chrono::seconds(10));
  EXPECT_EQ(outcome.status, Status::crashed);
  EXPECT_EQ(outcome.exit_code, SIGABRT);
}

TEST(DeadlineChild, ExitWithoutAnswer) {
  ChildOutcome outcome =
      run_with_deadline([]() -> ChildAnswer { ::_exit(7); }, std::chrono::seconds(10));
  EXPECT_EQ(outcome.status, Status::exited);
  EXPECT_EQ(outcome.exit_code, 7);
}

TEST(DeadlineChild, LongAnswerIsCutToTheLimitButReadToTheEnd) {
  ChildOutcome outcome = run_with_deadline(
      [] {
        return ChildAnswer{1, std::string(1 << 20, 'x')};
      },
      std::chrono::seconds(10), 1000);
  EXPECT_EQ(outcome.status, Status::answered);
  EXPECT_EQ(outcome.exit_code, 1);
  EXPECT_EQ(outcome.text.size(), 1000U);
}

}  // namespace
}  // namespace ephport
