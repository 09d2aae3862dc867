#include "serve/shared_collection.h"

#include <exception>

namespace ephport {

SharedCollection::SharedCollection(Collect collect, std::chrono::steady_clock::duration max_age)
    : collect_(std::move(collect)), max_age_(max_age), worker_([this] { run(); }) {}

SharedCollection::~SharedCollection() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_worker_.notify_all();
  worker_.join();
}

std::optional<Collection> SharedCollection::get(std::chrono::steady_clock::duration timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  std::unique_lock lock(mutex_);
  if (latest_ && std::chrono::steady_clock::now() - latest_->finished <= max_age_) {
    return latest_;
  }
  // The running collection, or the next one: it is number collections_ + 1.
  uint64_t wanted = collections_ + 1;
  if (!running_) {
    requested_ = true;
    wake_worker_.notify_one();
  }
  if (!finished_.wait_until(lock, deadline, [&] { return collections_ >= wanted || stopping_; })) {
    return std::nullopt;
  }
  if (collections_ < wanted) {
    return std::nullopt;  // stopping
  }
  return latest_;
}

uint64_t SharedCollection::collections() const {
  std::lock_guard lock(mutex_);
  return collections_;
}

uint64_t SharedCollection::failures() const {
  std::lock_guard lock(mutex_);
  return failures_;
}

void SharedCollection::run() {
  std::unique_lock lock(mutex_);
  for (;;) {
    wake_worker_.wait(lock, [&] { return requested_ || stopping_; });
    if (stopping_) {
      return;
    }
    requested_ = false;
    running_ = true;
    lock.unlock();

    Collection result;
    auto started = std::chrono::steady_clock::now();
    try {
      result.analysis = std::make_shared<const Analysis>(collect_());
    } catch (const std::exception& error) {
      result.error = error.what();
    }
    result.finished = std::chrono::steady_clock::now();
    result.duration_seconds = std::chrono::duration<double>(result.finished - started).count();

    lock.lock();
    running_ = false;
    ++collections_;
    if (!result.analysis) {
      ++failures_;
    }
    latest_ = std::move(result);
    finished_.notify_all();
  }
}

}  // namespace ephport
