#pragma once
// Result<T>: the one way to report a recoverable error. A function that can
// fail in a way its caller is expected to handle (try something else, add
// context, skip an item, retry) returns Result<T>: either a T or an Error
// with a message and, when the system said why, the errno.
//
// Which error path to use:
//  - Recoverable, returned: Result<T> (this header). The caller decides what
//    the failure means; it often rewraps the message with more context
//    ("unexpected content in PATH: <message>").
//  - Fatal, thrown: InputError / RuntimeError (util/error.h). The run cannot
//    go on; they are caught only in main(), which prints the message and
//    exits with the code. A caller turns a Result's error into one of these
//    when it cannot recover.
//  - Programming errors (a caller breaking a documented precondition): see
//    util/contract.h. Not reported, not handled: they are bugs.
//  - "Not there" that is not an error (a file that may be absent): plain
//    std::optional.
//
// g++ 12 in C++20 mode has no std::expected; this is the small subset used
// here. value() and error() on the wrong alternative is a programming error
// (asserted).

#include <cassert>
#include <cstring>
#include <string>
#include <utility>
#include <variant>

namespace ephport {

struct Error {
  std::string message;
  int error_number = 0;  // errno when the system reported the failure, else 0

  bool operator==(const Error&) const = default;
};

// The Error for a failed system call: strerror's text and the errno.
inline Error system_error(int error_number) {
  return Error{std::strerror(error_number), error_number};
}

template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : state_(std::in_place_index<0>, std::move(value)) {}      // NOLINT: implicit
  Result(Error error) : state_(std::in_place_index<1>, std::move(error)) {}  // NOLINT: implicit

  bool ok() const { return state_.index() == 0; }
  explicit operator bool() const { return ok(); }

  T& value() & {
    assert(ok());
    return std::get<0>(state_);
  }
  const T& value() const& {
    assert(ok());
    return std::get<0>(state_);
  }
  T&& value() && {
    assert(ok());
    return std::get<0>(std::move(state_));
  }
  const Error& error() const {
    assert(!ok());
    return std::get<1>(state_);
  }

 private:
  std::variant<T, Error> state_;
};

template <>
class [[nodiscard]] Result<void> {
 public:
  Result() = default;
  Result(Error error) : error_(std::move(error)), ok_(false) {}  // NOLINT: implicit

  bool ok() const { return ok_; }
  explicit operator bool() const { return ok(); }
  const Error& error() const {
    assert(!ok());
    return error_;
  }

 private:
  Error error_;
  bool ok_ = true;
};

}  // namespace ephport
