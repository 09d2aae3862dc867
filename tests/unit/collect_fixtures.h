#pragma once
// Shared by the Linux collector tests: the fixture paths and a one-line view
// of a SocketRecord, so golden lists read like `ss` output.

#include <fmt/format.h>
#include <stdlib.h>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "snapshot/socket_record.h"

namespace ephport::testing {

inline std::string fixture_path(const std::string& name) {
  return std::string(EPHPORT_FIXTURES) + "/" + name;
}

inline std::vector<uint8_t> read_binary(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::vector<uint8_t>(std::istreambuf_iterator<char>(in), {});
}

// "tcp6 LISTEN [::]:6000 [::]:0 ino=16945 v6only=1" with only the fields
// that are set; addresses as normalised (v4-mapped shown as IPv4).
inline std::string describe(const SocketRecord& record) {
  std::string text =
      fmt::format("{}{} {} {}:{} {}:{}", protocol_name(record.protocol),
                  record.family == Address::Family::v6 ? "6" : "", state_name(record.state),
                  record.local.str(), record.local_port, record.remote.str(), record.remote_port);
  if (record.ifindex != 0) {
    text += fmt::format(" if={}", record.ifindex);
  }
  if (record.uid != 0) {
    text += fmt::format(" uid={}", record.uid);
  }
  text += fmt::format(" ino={}", record.inode);
  if (record.timer != 0) {
    text += fmt::format(" timer={}:{}ms", record.timer, record.expires_ms);
  }
  if (record.v6only >= 0) {
    text += fmt::format(" v6only={}", record.v6only);
  }
  if (record.bind_address_no_port) {
    text += " no_port";
  }
  return text;
}

// The message of the `Error` that `function` throws, or "no exception".
template <typename Error, typename Function>
std::string error_text(Function&& function) {
  try {
    function();
  } catch (const Error& error) {
    return error.what();
  }
  return "no exception";
}

// A fresh directory under /tmp, removed with its content at the end of scope.
class ScratchDir {
 public:
  ScratchDir() {
    char pattern[] = "/tmp/ephport-collect-XXXXXX";
    if (::mkdtemp(pattern) != nullptr) {
      path_ = pattern;
    }
  }
  ~ScratchDir() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }
  ScratchDir(const ScratchDir&) = delete;
  ScratchDir& operator=(const ScratchDir&) = delete;

  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

}  // namespace ephport::testing
