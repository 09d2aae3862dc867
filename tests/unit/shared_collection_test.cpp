// Single-flight collection (serve/shared_collection.h): concurrent requests
// share one collection, a result is reused for max_age, a slow collection
// makes waiting requests time out without being cancelled, failures reach
// every waiter.

#include "serve/shared_collection.h"

#include <gtest/gtest.h>

#include <atomic>
#include <stdexcept>
#include <thread>
#include <vector>

namespace ephport {
namespace {

using namespace std::chrono_literals;

// A collection that takes `delay` and counts itself; the count goes into
// host.computer so a result shows which collection made it.
struct Counting {
  std::atomic<int> calls{0};
  std::chrono::milliseconds delay{0};
  std::atomic<bool> fail{false};

  SharedCollection::Collect fn() {
    return [this] {
      std::this_thread::sleep_for(delay);
      int n = ++calls;
      if (fail) {
        throw std::runtime_error("netlink said no");
      }
      Analysis analysis;
      analysis.host.computer = std::to_string(n);
      return analysis;
    };
  }
};

TEST(SharedCollection, ConcurrentRequestsShareOneCollection) {
  Counting counting;
  counting.delay = 200ms;
  SharedCollection shared(counting.fn(), 1s);
  std::vector<std::thread> threads;
  threads.reserve(20);
  std::atomic<int> answered{0};
  for (int i = 0; i < 20; ++i) {
    threads.emplace_back([&] {
      auto result = shared.get(5s);
      if (result && result->analysis && result->analysis->host.computer == "1") {
        ++answered;
      }
    });
  }
  for (auto& thread : threads) {
    thread.join();
  }
  EXPECT_EQ(answered, 20);
  EXPECT_EQ(counting.calls, 1);
  EXPECT_EQ(shared.collections(), 1u);
}

TEST(SharedCollection, ResultReusedForMaxAgeThenRenewed) {
  Counting counting;
  SharedCollection shared(counting.fn(), 300ms);
  EXPECT_EQ(shared.get(1s)->analysis->host.computer, "1");
  EXPECT_EQ(shared.get(1s)->analysis->host.computer, "1");
  std::this_thread::sleep_for(400ms);
  EXPECT_EQ(shared.get(1s)->analysis->host.computer, "2");
  EXPECT_EQ(shared.collections(), 2u);
}

TEST(SharedCollection, ZeroMaxAgeCollectsForEveryLateRequest) {
  Counting counting;
  SharedCollection shared(counting.fn(), 0ms);
  shared.get(1s);
  std::this_thread::sleep_for(5ms);
  shared.get(1s);
  EXPECT_EQ(counting.calls, 2);
}

TEST(SharedCollection, SlowCollectionTimesOutWaitersAndServesTheNext) {
  Counting counting;
  counting.delay = 500ms;
  SharedCollection shared(counting.fn(), 10s);
  auto start = std::chrono::steady_clock::now();
  EXPECT_FALSE(shared.get(100ms));
  EXPECT_LT(std::chrono::steady_clock::now() - start, 400ms);
  // The collection went on; a later request takes its result.
  auto result = shared.get(2s);
  ASSERT_TRUE(result);
  EXPECT_EQ(result->analysis->host.computer, "1");
  EXPECT_GE(result->duration_seconds, 0.45);
  EXPECT_EQ(counting.calls, 1);
}

TEST(SharedCollection, FailureReachesTheWaiters) {
  Counting counting;
  counting.fail = true;
  SharedCollection shared(counting.fn(), 1s);
  auto result = shared.get(1s);
  ASSERT_TRUE(result);
  EXPECT_FALSE(result->analysis);
  EXPECT_EQ(result->error, "netlink said no");
  EXPECT_EQ(shared.failures(), 1u);
}

TEST(SharedCollection, DestructionWaitsForTheRunningCollection) {
  Counting counting;
  counting.delay = 200ms;
  {
    SharedCollection shared(counting.fn(), 1s);
    EXPECT_FALSE(shared.get(10ms));
  }
  EXPECT_EQ(counting.calls, 1);
}

}  // namespace
}  // namespace ephport
