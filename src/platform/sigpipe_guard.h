#pragma once
// Writing to a connection the peer has closed raises SIGPIPE, which kills
// the process. cpp-httplib avoids it for plain sockets (MSG_NOSIGNAL) and
// its server ignores SIGPIPE process-wide, but a client's TLS writes go
// through OpenSSL's write(). This guard blocks SIGPIPE in the calling
// thread for its lifetime, so such a write fails with EPIPE instead, and
// discards a SIGPIPE left pending before unblocking. Nothing process-wide
// changes, so child processes and the other threads are unaffected.

#include <signal.h>

namespace ephport {

class SigpipeGuard {
 public:
  SigpipeGuard();
  ~SigpipeGuard();
  SigpipeGuard(const SigpipeGuard&) = delete;
  SigpipeGuard& operator=(const SigpipeGuard&) = delete;

 private:
  sigset_t previous_{};
};

}  // namespace ephport
