#include "platform/sigpipe_guard.h"

#include <pthread.h>

#include <ctime>

namespace ephport {

namespace {
sigset_t sigpipe_set() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGPIPE);
  return set;
}
}  // namespace

SigpipeGuard::SigpipeGuard() {
  sigset_t set = sigpipe_set();
  pthread_sigmask(SIG_BLOCK, &set, &previous_);
}

SigpipeGuard::~SigpipeGuard() {
  sigset_t set = sigpipe_set();
  // A SIGPIPE raised by this thread's writes is pending on it: take it.
  timespec now{};
  while (sigtimedwait(&set, nullptr, &now) > 0) {
  }
  pthread_sigmask(SIG_SETMASK, &previous_, nullptr);
}

}  // namespace ephport
