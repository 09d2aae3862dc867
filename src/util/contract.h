#pragma once
// Programming errors: a caller breaking a documented precondition (calling
// methods out of order, say). These are bugs, not errors to report or
// recover from, so they are neither a Result (util/result.h) nor a fatal
// InputError/RuntimeError (util/error.h).
//
// require() throws std::logic_error rather than aborting: unwinding runs the
// destructors that clean up (CaptureWriter removes its temporary file), main()
// still prints the message and exits 1, and tests can check the precondition
// is enforced.

#include <stdexcept>
#include <string>

namespace ephport {

inline void require(bool condition, const char* message) {
  if (!condition) {
    throw std::logic_error(message);
  }
}

}  // namespace ephport
