#pragma once
// Named network namespaces and processes living in them, for the tests of
// --netns: ephport runs from the test's namespace and reads theirs.

#include <sys/types.h>

#include <functional>
#include <string>

#include "lab_support.h"
#include "util/fd.h"

namespace ephport::lab {

// `ip netns add NAME`, deleted on destruction whatever happened.
class NamedNetns {
 public:
  explicit NamedNetns(std::string name);
  ~NamedNetns();
  NamedNetns(const NamedNetns&) = delete;
  NamedNetns& operator=(const NamedNetns&) = delete;
  const std::string& name() const { return name_; }
  std::string path() const { return "/run/netns/" + name_; }

 private:
  std::string name_;
};

// Runs a shell command; throws naming it unless it exits 0.
void run_command(const std::string& command);

// Namespaces A and B joined by a veth pair eph-a (in A) / eph-b (in B),
// addressed in IPv4 and IPv6 (nodad: usable at once), with fixed neighbour
// entries: no ARP/ND delay right after the link comes up (a first neighbour
// solicitation lost before carrier delays a SYN by 1 s). Deleting the
// namespaces removes the pair, so cleanup is NamedNetns's whatever failed.
class VethPair {
 public:
  static constexpr const char* kClientV4 = "10.231.0.1";  // A
  static constexpr const char* kServerV4 = "10.231.0.2";  // B
  static constexpr const char* kClientV6 = "fd00:231::1";
  static constexpr const char* kServerV6 = "fd00:231::2";
  static constexpr const char* kClientDevice = "eph-a";

  // `tag` names the namespaces: ephport-<tag>-a-<pid>, ephport-<tag>-b-<pid>.
  explicit VethPair(const std::string& tag);
  const NamedNetns& a() const { return a_; }
  const NamedNetns& b() const { return b_; }
  // Taking a link down flushes the neighbours: call again after bringing it back.
  void fix_neighbours() const;

 private:
  NamedNetns a_;
  NamedNetns b_;
};

// A forked child inside a network namespace that builds a population and
// holds it until destroyed. In the child, with `lo` up: `setup` builds the
// population on a Lab of that namespace and returns the text of its ready
// line ("ok <text>"); `command` answers each one-letter command of ask()
// with a number. The child ends on EOF (destruction), or is killed after 5 s.
class NetnsHolder {
 public:
  using Setup = std::function<std::string(Lab& lab)>;
  using Command = std::function<int(Lab& lab, char command)>;

  NetnsHolder(const std::string& netns_path, Setup setup, Command command = {});
  ~NetnsHolder();
  NetnsHolder(const NetnsHolder&) = delete;
  NetnsHolder& operator=(const NetnsHolder&) = delete;

  pid_t pid() const { return pid_; }
  // The child's next line ("ok <text>" after set-up, a number after a
  // command, "error: ..." when it failed). Throws after 10 s of silence.
  std::string read_line();
  // Reads the ready line; throws with it unless it is "ok <text>".
  std::string wait_ready();
  int ask(char command);

 private:
  static int child_main(const std::string& netns_path, const Setup& setup, const Command& command,
                        int commands, int answers);

  pid_t pid_ = -1;
  UniqueFd commands_;
  UniqueFd answers_;
};

}  // namespace ephport::lab
