#pragma once
// Errors that end the program. Raised anywhere, caught only in main(), which
// prints the message on one line and exits with the code. Recoverable
// conditions are returned, not thrown.

#include <stdexcept>
#include <string>

namespace ephport {

enum ExitCode : int { kExitOk = 0, kExitRuntime = 1, kExitUsage = 2 };

class FatalError : public std::runtime_error {
 public:
  FatalError(int exit_code, const std::string& message)
      : std::runtime_error(message), exit_code_(exit_code) {}
  int exit_code() const { return exit_code_; }

 private:
  int exit_code_;
};

// Bad command line or bad input file: exit 2.
class InputError : public FatalError {
 public:
  explicit InputError(const std::string& message) : FatalError(kExitUsage, message) {}
};

// The system refused something (netlink, /proc, a file): exit 1.
class RuntimeError : public FatalError {
 public:
  explicit RuntimeError(const std::string& message) : FatalError(kExitRuntime, message) {}
};

}  // namespace ephport
