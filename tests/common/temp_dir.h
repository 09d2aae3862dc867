#pragma once
// Test helpers shared by the unit and lab tests: a fresh directory under /tmp
// removed with everything in it at the end of the test, and whole-file
// read/write.
//
// Two failure semantics, both kept: the unit tests record a gtest failure
// and go on (OnFailure::add_failure; read_file() of a missing file is ""),
// the lab tests throw std::runtime_error (OnFailure::throw_error;
// read_file_or_throw(), write_file_or_throw()).

#include <gtest/gtest.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string>
#include <system_error>

namespace ephport::testing {

enum class OnFailure { add_failure, throw_error };

class TempDir {
 public:
  explicit TempDir(OnFailure on_failure = OnFailure::add_failure,
                   const std::string& prefix = "ephport-test") {
    std::string pattern = "/tmp/" + prefix + "-XXXXXX";
    if (::mkdtemp(pattern.data()) == nullptr) {
      if (on_failure == OnFailure::throw_error) {
        throw std::runtime_error(std::string("mkdtemp: ") + std::strerror(errno));
      }
      ADD_FAILURE() << "mkdtemp failed";
    }
    path_ = pattern;
  }
  ~TempDir() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::string& path() const { return path_; }
  std::string file(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

// The file's bytes; "" when it cannot be read.
inline std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream content;
  content << in.rdbuf();
  return content.str();
}

// The file's bytes; throws std::runtime_error("cannot read PATH").
inline std::string read_file_or_throw(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    throw std::runtime_error("cannot read " + path);
  }
  std::ostringstream content;
  content << in.rdbuf();
  return content.str();
}

// Best effort: a failure shows in what the test reads back.
inline void write_file(const std::string& path, const std::string& content) {
  std::ofstream(path, std::ios::binary) << content;
}

// Throws std::runtime_error("cannot write PATH").
inline void write_file_or_throw(const std::string& path, const std::string& content) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  if (!out || !(out << content)) {
    throw std::runtime_error("cannot write " + path);
  }
}

}  // namespace ephport::testing
