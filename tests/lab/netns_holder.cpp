#include "netns_holder.h"

#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <stdexcept>

namespace ephport::lab {

namespace {
void say(int fd, const std::string& text) {
  const std::string line = text + "\n";
  (void)!::write(fd, line.data(), line.size());
}
}  // namespace

NamedNetns::NamedNetns(std::string name) : name_(std::move(name)) {
  if (std::system(("ip netns add " + name_).c_str()) != 0) {
    throw std::runtime_error("ip netns add " + name_ + " failed");
  }
}

NamedNetns::~NamedNetns() {
  std::system(("ip netns delete " + name_ + " 2>/dev/null").c_str());
}

namespace {
constexpr const char* kMacA = "02:00:00:00:02:31";
constexpr const char* kMacB = "02:00:00:00:02:32";
}  // namespace

void run_command(const std::string& command) {
  const int status = std::system(command.c_str());
  if (status == -1 || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    throw std::runtime_error("command failed (" + std::to_string(status) + "): " + command);
  }
}

VethPair::VethPair(const std::string& tag)
    : a_("ephport-" + tag + "-a-" + std::to_string(::getpid())),
      b_("ephport-" + tag + "-b-" + std::to_string(::getpid())) {
  const std::string in_a = "ip -n " + a_.name() + " ";
  const std::string in_b = "ip -n " + b_.name() + " ";
  run_command(in_a + "link add eph-a address " + kMacA + " type veth peer name eph-b address " +
              kMacB + " netns " + b_.name());
  run_command(in_a + "address add " + kClientV4 + "/24 dev eph-a");
  run_command(in_a + "address add " + kClientV6 + "/64 dev eph-a nodad");
  run_command(in_b + "address add " + kServerV4 + "/24 dev eph-b");
  run_command(in_b + "address add " + kServerV6 + "/64 dev eph-b nodad");
  for (const std::string& in : {in_a, in_b}) {
    run_command(in + "link set lo up");
  }
  run_command(in_a + "link set eph-a up");
  run_command(in_b + "link set eph-b up");
  fix_neighbours();
}

void VethPair::fix_neighbours() const {
  for (const char* address : {kServerV4, kServerV6}) {
    run_command("ip -n " + a_.name() + " neigh replace " + address + " lladdr " + kMacB +
                " dev eph-a nud permanent");
  }
  for (const char* address : {kClientV4, kClientV6}) {
    run_command("ip -n " + b_.name() + " neigh replace " + address + " lladdr " + kMacA +
                " dev eph-b nud permanent");
  }
}

NetnsHolder::NetnsHolder(const std::string& netns_path, Setup setup, Command command) {
  int to_child[2];
  int from_child[2];
  if (::pipe2(to_child, O_CLOEXEC) != 0) {
    throw std::runtime_error("pipe2 failed");
  }
  if (::pipe2(from_child, O_CLOEXEC) != 0) {
    ::close(to_child[0]);
    ::close(to_child[1]);
    throw std::runtime_error("pipe2 failed");
  }
  pid_ = ::fork();
  if (pid_ < 0) {
    throw std::runtime_error("fork failed");
  }
  if (pid_ == 0) {
    ::close(to_child[1]);
    ::close(from_child[0]);
    ::_exit(child_main(netns_path, setup, command, to_child[0], from_child[1]));
  }
  ::close(to_child[0]);
  ::close(from_child[1]);
  commands_ = UniqueFd(to_child[1]);
  answers_ = UniqueFd(from_child[0]);
}

NetnsHolder::~NetnsHolder() {
  commands_.reset();  // EOF: the child closes its sockets and exits
  for (int i = 0; i < 50; ++i) {
    if (::waitpid(pid_, nullptr, WNOHANG) == pid_) {
      return;
    }
    ::usleep(100000);
  }
  ::kill(pid_, SIGKILL);
  ::waitpid(pid_, nullptr, 0);
}

std::string NetnsHolder::read_line() {
  std::string line;
  for (int i = 0; i < 4096; ++i) {
    pollfd entry{answers_.get(), POLLIN, 0};
    if (::poll(&entry, 1, 10000) <= 0) {
      throw std::runtime_error("the namespace holder did not answer");
    }
    char c = 0;
    if (::read(answers_.get(), &c, 1) != 1) {
      throw std::runtime_error("the namespace holder died: " + line);
    }
    if (c == '\n') {
      return line;
    }
    line += c;
  }
  throw std::runtime_error("the namespace holder's line is too long");
}

std::string NetnsHolder::wait_ready() {
  const std::string line = read_line();
  if (line.rfind("ok ", 0) != 0) {
    throw std::runtime_error("the namespace holder failed: " + line);
  }
  return line.substr(3);
}

int NetnsHolder::ask(char command) {
  if (::write(commands_.get(), &command, 1) != 1) {
    throw std::runtime_error("cannot talk to the namespace holder");
  }
  return std::stoi(read_line());
}

int NetnsHolder::child_main(const std::string& netns_path, const Setup& setup,
                            const Command& command, int commands, int answers) {
  try {
    UniqueFd netns(::open(netns_path.c_str(), O_RDONLY | O_CLOEXEC));
    if (!netns.valid() || ::setns(netns.get(), CLONE_NEWNET) != 0) {
      say(answers, "setns " + netns_path + " failed");
      return 1;
    }
    bring_loopback_up();
    Lab lab(false);
    say(answers, "ok " + setup(lab));
    char letter = 0;
    while (::read(commands, &letter, 1) == 1) {
      say(answers, std::to_string(command ? command(lab, letter) : 0));
    }
    return 0;
  } catch (const std::exception& error) {
    say(answers, std::string("error: ") + error.what());
    return 1;
  }
}

}  // namespace ephport::lab
