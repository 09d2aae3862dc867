#pragma once
// Collection on demand, shared by concurrent requests (single flight): one
// worker thread runs the collection; a request that arrives while one runs
// waits for it and takes its result; a result is reused by every request for
// `max_age` after it finished; a request waits at most its own timeout and
// then goes without (the collection carries on and serves the next ones).
// So N parallel scrapes cost one collection, and a slow collection never
// holds more than the requests that chose to wait.
//
// The worker thread is started by the constructor and inherits the calling
// thread's network namespace: construct it after entering --netns.

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include "analyze/analysis.h"

namespace ephport {

struct Collection {
  std::shared_ptr<const Analysis> analysis;  // null when the collection failed
  std::string error;                         // why it failed
  double duration_seconds = 0;
  std::chrono::steady_clock::time_point finished;
};

class SharedCollection {
 public:
  // Runs in the worker thread only, one call at a time; may throw.
  using Collect = std::function<Analysis()>;

  SharedCollection(Collect collect, std::chrono::steady_clock::duration max_age);
  ~SharedCollection();  // waits for a running collection to finish
  SharedCollection(const SharedCollection&) = delete;
  SharedCollection& operator=(const SharedCollection&) = delete;

  // The latest result when younger than max_age, else the one running or
  // started now; nullopt when it has not finished within `timeout`.
  std::optional<Collection> get(std::chrono::steady_clock::duration timeout);

  uint64_t collections() const;  // finished, failed ones included
  uint64_t failures() const;

 private:
  void run();

  Collect collect_;
  std::chrono::steady_clock::duration max_age_;
  mutable std::mutex mutex_;
  std::condition_variable wake_worker_;
  std::condition_variable finished_;
  bool requested_ = false;
  bool running_ = false;
  bool stopping_ = false;
  uint64_t collections_ = 0;
  uint64_t failures_ = 0;
  std::optional<Collection> latest_;
  std::thread worker_;  // last: started once the members above exist
};

}  // namespace ephport
