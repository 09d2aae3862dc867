#pragma once
// Network namespace paths and switching. The process must be
// single-threaded: setns() moves the calling thread only.

#include <cstdint>
#include <string>

#include "util/fd.h"

namespace ephport {

// Moves this (single-threaded) process into another network namespace:
// NAME is an `ip netns` name (/run/netns/NAME), anything with a '/' a path.
// Throws InputError if it does not exist, RuntimeError if setns fails.
void enter_netns(const std::string& name_or_path);

// The file for an `ip netns` NAME (/run/netns/NAME), or the argument itself
// when it contains a '/' (/proc/1234/ns/net, /var/run/docker/netns/xyz).
std::string netns_path(const std::string& name_or_path);

// Opens the namespace file `path` for setns(). Returns an invalid fd when
// the namespace is gone (ENOENT, ESRCH: its process exited, its name was
// deleted) or, with a non-zero `inode`, when the file now holds another
// namespace (the PID was reused). Throws RuntimeError on any other failure.
UniqueFd open_netns_if_present(const std::string& path, uint64_t inode);

// setns(fd, CLONE_NEWNET). Throws RuntimeError naming `label` and `path`;
// EPERM says that CAP_SYS_ADMIN is needed.
void set_netns(int fd, const std::string& label, const std::string& path);

// Holds the caller's network namespace (/proc/self/ns/net) to come back to.
class NetnsHome {
 public:
  NetnsHome();   // throws RuntimeError
  ~NetnsHome();  // goes back if still away
  NetnsHome(const NetnsHome&) = delete;
  NetnsHome& operator=(const NetnsHome&) = delete;

  uint64_t inode() const { return inode_; }
  // Enters `fd` (a namespace file opened by open_netns_if_present()).
  void enter(int fd, const std::string& label, const std::string& path);
  // Back to the caller's namespace; throws RuntimeError if setns fails.
  void go_back();

 private:
  UniqueFd home_;
  uint64_t inode_ = 0;
  bool away_ = false;
};

}  // namespace ephport
