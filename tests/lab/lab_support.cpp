#include "lab_support.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <net/if.h>
#include <netinet/in.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>

#ifndef EPHPORT_BINARY
#error "EPHPORT_BINARY must name the ephport binary under test"
#endif

namespace ephport::lab {
namespace {

constexpr int kIpLocalPortRange = 51;  // IP_LOCAL_PORT_RANGE (Linux 6.3), not in glibc 2.36

[[noreturn]] void fail_errno(const std::string& what) {
  throw std::runtime_error(what + ": " + std::strerror(errno));
}

std::string strip_brackets(std::string_view text) {
  if (text.size() >= 2 && text.front() == '[' && text.back() == ']') {
    text = text.substr(1, text.size() - 2);
  }
  return std::string(text);
}

struct SockAddr {
  sockaddr_storage storage{};
  socklen_t length = 0;
  int family = AF_UNSPEC;
  const sockaddr* get() const { return reinterpret_cast<const sockaddr*>(&storage); }
};

SockAddr make_sockaddr(const std::string& address, uint16_t port) {
  SockAddr result;
  const std::string text = strip_brackets(address);
  auto* v4 = reinterpret_cast<sockaddr_in*>(&result.storage);
  auto* v6 = reinterpret_cast<sockaddr_in6*>(&result.storage);
  if (inet_pton(AF_INET, text.c_str(), &v4->sin_addr) == 1) {
    v4->sin_family = AF_INET;
    v4->sin_port = htons(port);
    result.length = sizeof(sockaddr_in);
    result.family = AF_INET;
  } else if (inet_pton(AF_INET6, text.c_str(), &v6->sin6_addr) == 1) {
    v6->sin6_family = AF_INET6;
    v6->sin6_port = htons(port);
    result.length = sizeof(sockaddr_in6);
    result.family = AF_INET6;
  } else {
    throw std::runtime_error("not an IP address: '" + address + "'");
  }
  return result;
}

UniqueFd make_socket(int family, Proto proto) {
  const int type = (proto == Proto::tcp ? SOCK_STREAM : SOCK_DGRAM) | SOCK_CLOEXEC;
  UniqueFd fd(::socket(family, type, 0));
  if (!fd.valid()) {
    fail_errno("socket()");
  }
  return fd;
}

// Waits until `fd` is readable; throws after `timeout_ms`.
void wait_readable(int fd, const char* what, int timeout_ms = 5000) {
  pollfd entry{fd, POLLIN, 0};
  const int ready = ::poll(&entry, 1, timeout_ms);
  if (ready < 0) {
    fail_errno(std::string("poll() for ") + what);
  }
  if (ready == 0) {
    throw std::runtime_error(std::string("timed out waiting for ") + what);
  }
}

// Reads until the peer's FIN (recv() == 0), bounded by the poll timeout.
void wait_for_fin(int fd, const char* what) {
  char buffer[256];
  for (int round = 0; round < 100; ++round) {
    wait_readable(fd, what);
    const ssize_t got = ::recv(fd, buffer, sizeof buffer, 0);
    if (got == 0) {
      return;
    }
    if (got < 0) {
      fail_errno(std::string("recv() while waiting for ") + what);
    }
  }
  throw std::runtime_error(std::string("no FIN seen for ") + what);
}

std::string wildcard_of(const std::string& address) {
  return make_sockaddr(address, 0).family == AF_INET ? "0.0.0.0" : "::";
}

void set_int_option(int fd, int level, int name, int value, const char* what) {
  if (::setsockopt(fd, level, name, &value, sizeof value) != 0) {
    fail_errno(what);
  }
}

void bind_to_device(int fd, const std::string& device) {
  if (!device.empty() && ::setsockopt(fd, SOL_SOCKET, SO_BINDTODEVICE, device.c_str(),
                                      static_cast<socklen_t>(device.size())) != 0) {
    fail_errno("SO_BINDTODEVICE " + device);
  }
}

// Runs a command of the lab's set-up (iproute2); throws unless it exits 0.
void run_command(const std::string& command) {
  const int status = std::system(command.c_str());
  if (status == -1 || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    throw std::runtime_error("command failed (" + std::to_string(status) + "): " + command);
  }
}

// Remote port of a connected socket, or nullopt.
std::optional<uint16_t> peer_port(int fd) {
  sockaddr_storage storage{};
  socklen_t length = sizeof storage;
  if (::getpeername(fd, reinterpret_cast<sockaddr*>(&storage), &length) != 0) {
    return std::nullopt;
  }
  if (storage.ss_family == AF_INET) {
    return ntohs(reinterpret_cast<const sockaddr_in*>(&storage)->sin_port);
  }
  return ntohs(reinterpret_cast<const sockaddr_in6*>(&storage)->sin6_port);
}

bool is_stream(int fd) {
  int type = 0;
  socklen_t length = sizeof type;
  return ::getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &length) == 0 && type == SOCK_STREAM;
}

}  // namespace

std::string canonical(std::string_view text) {
  const std::string plain = strip_brackets(text);
  char buffer[INET6_ADDRSTRLEN] = {};
  in_addr v4{};
  in6_addr v6{};
  if (inet_pton(AF_INET, plain.c_str(), &v4) == 1) {
    inet_ntop(AF_INET, &v4, buffer, sizeof buffer);
  } else if (inet_pton(AF_INET6, plain.c_str(), &v6) == 1) {
    if (IN6_IS_ADDR_V4MAPPED(&v6)) {
      std::memcpy(&v4, &v6.s6_addr[12], 4);
      inet_ntop(AF_INET, &v4, buffer, sizeof buffer);
    } else {
      inet_ntop(AF_INET6, &v6, buffer, sizeof buffer);
    }
  } else {
    throw std::runtime_error("not an IP address: '" + plain + "'");
  }
  return buffer;
}

// --- Network namespace -----------------------------------------------------

void bring_loopback_up() {
  UniqueFd fd(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  if (!fd.valid()) {
    fail_errno("socket() for SIOCSIFFLAGS");
  }
  ifreq request{};
  std::strncpy(request.ifr_name, "lo", IFNAMSIZ - 1);
  if (::ioctl(fd.get(), SIOCGIFFLAGS, &request) < 0) {
    fail_errno("SIOCGIFFLAGS lo");
  }
  request.ifr_flags = static_cast<short>(request.ifr_flags | IFF_UP);
  if (::ioctl(fd.get(), SIOCSIFFLAGS, &request) < 0) {
    fail_errno("SIOCSIFFLAGS lo up");
  }
}

NetnsGuard::NetnsGuard() : original_(::open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC)) {
  if (!original_.valid()) {
    fail_errno("open /proc/self/ns/net");
  }
  if (::unshare(CLONE_NEWNET) != 0) {
    fail_errno("unshare(CLONE_NEWNET)");
  }
  bring_loopback_up();
}

NetnsGuard::~NetnsGuard() {
  if (original_.valid()) {
    ::setns(original_.get(), CLONE_NEWNET);
  }
}

void write_sysctl(const std::string& name, const std::string& value) {
  const std::string path = "/proc/sys/" + name;
  UniqueFd fd(::open(path.c_str(), O_WRONLY | O_CLOEXEC));
  if (!fd.valid()) {
    fail_errno("open " + path);
  }
  if (::write(fd.get(), value.data(), value.size()) != static_cast<ssize_t>(value.size())) {
    fail_errno("write '" + value + "' to " + path);
  }
}

std::string read_sysctl(const std::string& name) {
  std::string text = read_file("/proc/sys/" + name);
  while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) {
    text.pop_back();
  }
  return text;
}

// --- Running ephport -------------------------------------------------------

EphportProcess::EphportProcess(const std::vector<std::string>& args) {
  int out_pipe[2];
  int err_pipe[2];
  if (::pipe2(out_pipe, O_CLOEXEC) != 0) {
    fail_errno("pipe2");
  }
  out_ = UniqueFd(out_pipe[0]);
  UniqueFd out_write(out_pipe[1]);
  if (::pipe2(err_pipe, O_CLOEXEC) != 0) {
    fail_errno("pipe2");
  }
  err_ = UniqueFd(err_pipe[0]);
  UniqueFd err_write(err_pipe[1]);

  // Everything the child needs is built before fork().
  std::vector<std::string> strings;
  strings.emplace_back(EPHPORT_BINARY);
  strings.insert(strings.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (auto& s : strings) {
    argv.push_back(s.data());
  }
  argv.push_back(nullptr);

  pid_ = ::fork();
  if (pid_ < 0) {
    fail_errno("fork");
  }
  if (pid_ == 0) {
    const int devnull = ::open("/dev/null", O_RDONLY);
    if (devnull < 0 || ::dup2(devnull, 0) < 0 || ::dup2(out_write.get(), 1) < 0 ||
        ::dup2(err_write.get(), 2) < 0) {
      ::_exit(126);
    }
    // The child must not own the test's sockets (pid counts, lifetimes).
    ::close_range(3, ~0U, 0);
    ::execv(argv[0], argv.data());
    ::_exit(127);
  }
}

EphportProcess::~EphportProcess() {
  if (pid_ > 0) {
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
  }
}

void EphportProcess::signal(int signo) const {
  if (pid_ > 0) {
    ::kill(pid_, signo);
  }
}

RunResult EphportProcess::finish(std::chrono::milliseconds timeout) {
  RunResult result;
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  bool killed = false;
  std::string* sinks[2] = {&result.out, &result.err};
  UniqueFd* fds[2] = {&out_, &err_};
  // Bounded: after the deadline the child is killed, so both pipes reach EOF.
  for (int round = 0; round < 1000000 && (out_.valid() || err_.valid()); ++round) {
    pollfd entries[2];
    for (int i = 0; i < 2; ++i) {
      entries[i] = {fds[i]->valid() ? fds[i]->get() : -1, POLLIN, 0};
    }
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (killed && left < -std::chrono::seconds(5)) {
      break;  // a grandchild holds the pipes open: stop reading
    }
    if (left.count() <= 0 && !killed) {
      ::kill(pid_, SIGKILL);
      killed = true;
      result.err += "[lab: ephport killed after timeout]\n";
    }
    const int wait_ms = killed ? 1000 : static_cast<int>(std::max<int64_t>(left.count(), 1));
    if (::poll(entries, 2, wait_ms) < 0 && errno != EINTR) {
      fail_errno("poll ephport output");
    }
    for (int i = 0; i < 2; ++i) {
      if (entries[i].fd < 0 || entries[i].revents == 0) {
        continue;
      }
      char buffer[65536];
      const ssize_t got = ::read(entries[i].fd, buffer, sizeof buffer);
      if (got > 0) {
        sinks[i]->append(buffer, static_cast<size_t>(got));
      } else if (got == 0 || errno != EINTR) {
        fds[i]->reset();
      }
    }
  }
  int status = 0;
  if (::waitpid(pid_, &status, 0) < 0) {
    fail_errno("waitpid ephport");
  }
  pid_ = -1;
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return result;
}

RunResult run_ephport(const std::vector<std::string>& args) {
  EphportProcess process(args);
  return process.finish();
}

std::vector<std::string> split_lines(std::string_view text) {
  std::vector<std::string> lines;
  size_t start = 0;
  while (start < text.size()) {
    const size_t end = text.find('\n', start);
    if (end == std::string_view::npos) {
      lines.emplace_back(text.substr(start));
      break;
    }
    lines.emplace_back(text.substr(start, end - start));
    start = end + 1;
  }
  return lines;
}

size_t line_count(std::string_view text) {
  return split_lines(text).size();
}

Json snapshot_json(const std::vector<std::string>& extra) {
  std::vector<std::string> args = {"snapshot", "--format", "json", "--top", "1000"};
  args.insert(args.end(), extra.begin(), extra.end());
  const RunResult run = run_ephport(args);
  if (run.exit_code != 0) {
    throw std::runtime_error("ephport snapshot exited " + std::to_string(run.exit_code) + ": " +
                             run.err);
  }
  try {
    return Json::parse(run.out);
  } catch (const Json::exception& error) {
    throw std::runtime_error(std::string("ephport snapshot printed invalid JSON (") + error.what() +
                             "): " + run.out.substr(0, 300));
  }
}

std::optional<Json> find_destination(const Json& snapshot, const std::string& proto,
                                     const std::string& local, const std::string& remote,
                                     uint16_t remote_port) {
  const std::string want_local = canonical(local);
  const std::string want_remote = canonical(remote);
  for (const Json& row : snapshot.at("protocols").at(proto).at("destinations")) {
    if (row.at("remote_port").get<int>() == remote_port &&
        canonical(row.at("local_address").get<std::string>()) == want_local &&
        canonical(row.at("remote_address").get<std::string>()) == want_remote) {
      return row;
    }
  }
  return std::nullopt;
}

std::optional<Json> find_address(const Json& snapshot, const std::string& proto,
                                 const std::string& address) {
  const std::string want = canonical(address);
  for (const Json& row : snapshot.at("protocols").at(proto).at("addresses")) {
    if (canonical(row.at("address").get<std::string>()) == want) {
      return row;
    }
  }
  return std::nullopt;
}

// --- Socket population -----------------------------------------------------

void close_abort(UniqueFd& fd) {
  if (!fd.valid()) {
    return;
  }
  const linger abort_close{1, 0};
  ::setsockopt(fd.get(), SOL_SOCKET, SO_LINGER, &abort_close, sizeof abort_close);
  fd.reset();
}

uint16_t local_port(int fd) {
  sockaddr_storage storage{};
  socklen_t length = sizeof storage;
  if (::getsockname(fd, reinterpret_cast<sockaddr*>(&storage), &length) != 0) {
    fail_errno("getsockname");
  }
  if (storage.ss_family == AF_INET) {
    return ntohs(reinterpret_cast<const sockaddr_in*>(&storage)->sin_port);
  }
  return ntohs(reinterpret_cast<const sockaddr_in6*>(&storage)->sin6_port);
}

Lab::Lab(bool own_netns) {
  if (own_netns) {
    netns_.emplace();
  }
}

Lab::~Lab() {
  // Probes and held sockets go first, with RST, so the namespace dies quickly.
  release_probes();
  for (auto& fd : held_) {
    close_abort(fd);
  }
}

void Lab::set_range(uint16_t first, uint16_t last) {
  write_sysctl("net/ipv4/ip_local_port_range", std::to_string(first) + " " + std::to_string(last));
}

void Lab::set_reserved(const std::string& ports) {
  write_sysctl("net/ipv4/ip_local_reserved_ports", ports);
}

void Lab::set_tw_reuse(int value) {
  write_sysctl("net/ipv4/tcp_tw_reuse", std::to_string(value));
}

int Lab::range_size() const {
  std::istringstream text(read_sysctl("net/ipv4/ip_local_port_range"));
  int first = 0;
  int last = -1;
  text >> first >> last;
  return last - first + 1;
}

void Lab::listen(const std::string& address, uint16_t port) {
  listen_with(address, port, false);
}

void Lab::listen_v6only(const std::string& address, uint16_t port) {
  listen_with(address, port, true);
}

void Lab::listen_with(const std::string& address, uint16_t port, bool v6only) {
  const SockAddr where = make_sockaddr(address, port);
  UniqueFd fd = make_socket(where.family, Proto::tcp);
  if (v6only) {
    set_int_option(fd.get(), IPPROTO_IPV6, IPV6_V6ONLY, 1, "IPV6_V6ONLY");
  }
  if (::bind(fd.get(), where.get(), where.length) != 0) {
    fail_errno("bind listener " + address + ":" + std::to_string(port));
  }
  if (::listen(fd.get(), 4096) != 0) {
    fail_errno("listen " + address + ":" + std::to_string(port));
  }
  listeners_[{canonical(address), port}].fd = std::move(fd);
}

void Lab::close_listener(const std::string& address, uint16_t port) {
  auto found = listeners_.find({canonical(address), port});
  if (found == listeners_.end()) {
    throw std::runtime_error("no lab listener " + address + ":" + std::to_string(port));
  }
  listeners_.erase(found);
}

void Lab::add_blackhole(const std::string& device, const std::string& local_cidr,
                        const std::string& remote) {
  const std::string peer = device + "p";
  run_command("ip link add " + device + " type veth peer name " + peer);
  run_command("ip address add " + local_cidr + " dev " + device);
  run_command("ip link set " + device + " up");
  run_command("ip link set " + peer + " up");
  // A MAC nobody has: the peer drops the frames, no neighbour resolution
  // fails (that would send the SYN_SENT sockets an ICMP error).
  run_command("ip neigh replace " + remote + " lladdr 02:00:00:00:be:ef dev " + device +
              " nud permanent");
}

Lab::Listener& Lab::listener_for(const std::string& dest, uint16_t port) {
  const std::string exact = canonical(dest);
  for (const std::string& candidate : {exact, wildcard_of(exact), std::string("::")}) {
    auto found = listeners_.find({candidate, port});
    if (found != listeners_.end()) {
      return found->second;
    }
  }
  throw std::runtime_error("no lab listener for " + dest + ":" + std::to_string(port));
}

int Lab::try_connect(const std::string& source, const std::string& dest, uint16_t port,
                     std::vector<UniqueFd>& clients, std::vector<UniqueFd>& servers,
                     const ClientOptions& options) {
  Listener* listener = options.syn_only ? nullptr : &listener_for(dest, port);
  const SockAddr where = make_sockaddr(dest, port);
  UniqueFd fd = make_socket(where.family, Proto::tcp);
  bind_to_device(fd.get(), options.device);
  if (options.v6only >= 0) {
    set_int_option(fd.get(), IPPROTO_IPV6, IPV6_V6ONLY, options.v6only, "IPV6_V6ONLY");
  }
  if (options.range_first != 0) {
    set_int_option(fd.get(), IPPROTO_IP, kIpLocalPortRange,
                   options.range_first | options.range_last << 16, "IP_LOCAL_PORT_RANGE");
  }
  if (!source.empty()) {
    if (options.bind == SourceBind::no_port && options.source_port == 0) {
      set_int_option(fd.get(), IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, 1, "IP_BIND_ADDRESS_NO_PORT");
    }
    const SockAddr from = make_sockaddr(source, options.source_port);
    if (::bind(fd.get(), from.get(), from.length) != 0) {
      fail_errno("bind source " + source + ":" + std::to_string(options.source_port));
    }
  } else if (options.source_port != 0) {
    throw std::runtime_error("ClientOptions::source_port needs a source address");
  }
  if (options.syn_only) {
    const int flags = ::fcntl(fd.get(), F_GETFL);
    if (flags < 0 || ::fcntl(fd.get(), F_SETFL, flags | O_NONBLOCK) != 0) {
      fail_errno("O_NONBLOCK");
    }
    if (::connect(fd.get(), where.get(), where.length) != 0 && errno != EINPROGRESS) {
      return errno;
    }
    clients.push_back(std::move(fd));
    return 0;
  }
  if (::connect(fd.get(), where.get(), where.length) != 0) {
    return errno;
  }
  wait_readable(listener->fd.get(), "accept()");
  UniqueFd child(::accept4(listener->fd.get(), nullptr, nullptr, SOCK_CLOEXEC));
  if (!child.valid()) {
    fail_errno("accept4");
  }
  clients.push_back(std::move(fd));
  servers.push_back(std::move(child));
  return 0;
}

Lab::Pair Lab::connect_one(const std::string& source, const std::string& dest, uint16_t port,
                           const ClientOptions& options) {
  std::vector<UniqueFd> client;
  std::vector<UniqueFd> server;
  const int error = try_connect(source, dest, port, client, server, options);
  if (error != 0) {
    errno = error;
    fail_errno("connect from '" + source + "' to " + dest + ":" + std::to_string(port));
  }
  Pair pair{std::move(client[0]), {}};
  if (!server.empty()) {
    pair.server = std::move(server[0]);
  }
  return pair;
}

std::vector<uint16_t> Lab::connect(const std::string& source, const std::string& dest,
                                   uint16_t port, int n, const ClientOptions& options) {
  std::vector<uint16_t> ports;
  for (int i = 0; i < n; ++i) {
    Pair pair = connect_one(source, dest, port, options);
    ports.push_back(local_port(pair.client.get()));
    held_.push_back(std::move(pair.client));
    if (pair.server.valid()) {
      held_.push_back(std::move(pair.server));
    }
  }
  return ports;
}

std::vector<uint16_t> Lab::time_wait(const std::string& source, const std::string& dest,
                                     uint16_t port, int n, const ClientOptions& options) {
  if (options.syn_only) {
    throw std::runtime_error("time_wait() needs a handshake, not syn_only");
  }
  std::vector<uint16_t> ports;
  for (int i = 0; i < n; ++i) {
    Pair pair = connect_one(source, dest, port, options);
    ports.push_back(local_port(pair.client.get()));
    // Client closes first: FIN_WAIT2, then the server's FIN puts it in
    // TIME_WAIT. Waiting for each FIN makes the state certain, not timed.
    if (::shutdown(pair.client.get(), SHUT_WR) != 0) {
      fail_errno("shutdown client");
    }
    wait_for_fin(pair.server.get(), "client FIN at the server");
    pair.server.reset();
    wait_for_fin(pair.client.get(), "server FIN at the client");
  }
  return ports;
}

std::vector<uint16_t> Lab::close_wait(const std::string& source, const std::string& dest,
                                      uint16_t port, int n) {
  std::vector<uint16_t> ports;
  for (int i = 0; i < n; ++i) {
    Pair pair = connect_one(source, dest, port, {});
    ports.push_back(local_port(pair.client.get()));
    pair.server.reset();
    wait_for_fin(pair.client.get(), "server FIN at the client");  // now CLOSE_WAIT
    held_.push_back(std::move(pair.client));
  }
  return ports;
}

std::vector<uint16_t> Lab::orphan_fin_wait(const std::string& source, const std::string& dest,
                                           uint16_t port, int n) {
  std::vector<uint16_t> ports;
  for (int i = 0; i < n; ++i) {
    Pair pair = connect_one(source, dest, port, {});
    ports.push_back(local_port(pair.client.get()));
    pair.client.reset();
    wait_for_fin(pair.server.get(), "client FIN at the server");  // server in CLOSE_WAIT
    held_.push_back(std::move(pair.server));
  }
  return ports;
}

void Lab::abort_connections(uint16_t port, const std::vector<uint16_t>& client_ports) {
  const std::set<uint16_t> wanted(client_ports.begin(), client_ports.end());
  // Match first, close after: a child whose client was reset has no peer.
  std::vector<UniqueFd*> matched;
  for (auto& fd : held_) {
    if (!fd.valid() || !is_stream(fd.get())) {
      continue;
    }
    const auto peer = peer_port(fd.get());
    const uint16_t own = local_port(fd.get());
    const bool client = peer == port && wanted.contains(own);
    const bool child = own == port && peer && wanted.contains(*peer);
    if (client || child) {
      matched.push_back(&fd);
    }
  }
  if (matched.size() != 2 * wanted.size()) {
    throw std::runtime_error("abort_connections: " + std::to_string(matched.size()) +
                             " sockets matched, not a client and a child for each of " +
                             std::to_string(wanted.size()) + " ports");
  }
  for (UniqueFd* fd : matched) {
    close_abort(*fd);
  }
}

uint16_t Lab::bound_only(Proto proto, const std::string& address, uint16_t port,
                         const std::string& device) {
  const SockAddr where = make_sockaddr(address, port);
  UniqueFd fd = make_socket(where.family, proto);
  bind_to_device(fd.get(), device);
  if (::bind(fd.get(), where.get(), where.length) != 0) {
    fail_errno("bind " + address + ":" + std::to_string(port));
  }
  const uint16_t bound = local_port(fd.get());
  held_.push_back(std::move(fd));
  return bound;
}

uint16_t Lab::udp_connect(const std::string& dest, uint16_t port, const std::string& first_dest) {
  const SockAddr where = make_sockaddr(dest, port);
  UniqueFd fd = make_socket(where.family, Proto::udp);
  if (!first_dest.empty()) {
    const SockAddr first = make_sockaddr(first_dest, port);
    if (::connect(fd.get(), first.get(), first.length) != 0) {
      fail_errno("UDP connect to " + first_dest + ":" + std::to_string(port));
    }
  }
  if (::connect(fd.get(), where.get(), where.length) != 0) {
    fail_errno("UDP connect to " + dest + ":" + std::to_string(port));
  }
  const uint16_t bound = local_port(fd.get());
  held_.push_back(std::move(fd));
  return bound;
}

int Lab::count_connects_until_refused(const std::string& source, const std::string& dest,
                                      uint16_t port, const ClientOptions& options) {
  const int limit = range_size() + 5;
  for (int count = 0; count < limit; ++count) {
    const int error = try_connect(source, dest, port, probes_, probe_peers_, options);
    if (error == EADDRNOTAVAIL) {
      return count;
    }
    if (error != 0) {
      errno = error;
      fail_errno("probe connect #" + std::to_string(count + 1) + " to " + dest + ":" +
                 std::to_string(port) + " (expected only EADDRNOTAVAIL)");
    }
  }
  throw std::runtime_error("connect() to " + dest + ":" + std::to_string(port) +
                           " never refused in " + std::to_string(limit) + " calls");
}

int Lab::count_binds_until_refused(Proto proto, const std::string& address,
                                   const std::string& device) {
  const int limit = range_size() + 5;
  const SockAddr where = make_sockaddr(address, 0);
  for (int count = 0; count < limit; ++count) {
    UniqueFd fd = make_socket(where.family, proto);
    bind_to_device(fd.get(), device);
    if (::bind(fd.get(), where.get(), where.length) != 0) {
      if (errno == EADDRINUSE) {
        return count;
      }
      fail_errno("probe bind(" + address + ":0) #" + std::to_string(count + 1) +
                 " (expected only EADDRINUSE)");
    }
    probes_.push_back(std::move(fd));
  }
  throw std::runtime_error("bind(" + address + ":0) never refused in " + std::to_string(limit) +
                           " calls");
}

int Lab::count_udp_autobinds_until_refused(const std::string& dest, uint16_t port) {
  const int limit = range_size() + 5;
  const SockAddr where = make_sockaddr(dest, port);
  for (int count = 0; count < limit; ++count) {
    UniqueFd fd = make_socket(where.family, Proto::udp);
    if (::connect(fd.get(), where.get(), where.length) != 0) {
      if (errno == EAGAIN) {
        return count;
      }
      fail_errno("probe UDP connect #" + std::to_string(count + 1) + " (expected only EAGAIN)");
    }
    probes_.push_back(std::move(fd));
  }
  throw std::runtime_error("UDP autobind never refused in " + std::to_string(limit) + " calls");
}

void Lab::release_probes() {
  for (auto& fd : probes_) {
    close_abort(fd);
  }
  for (auto& fd : probe_peers_) {
    close_abort(fd);
  }
  probes_.clear();
  probe_peers_.clear();
}

// --- Prediction against the kernel --------------------------------------------

Predictions predict(const std::vector<std::string>& extra) {
  auto with_mode = [&](const char* mode) {
    std::vector<std::string> args = {"--bind-state", mode};
    args.insert(args.end(), extra.begin(), extra.end());
    return snapshot_json(args);
  };
  Predictions predicted{with_mode("bpf"), with_mode("estimate")};
  EXPECT_EQ(predicted.bpf.at("bind_state"), "exact") << "--bind-state bpf";
  EXPECT_EQ(predicted.estimate.at("bind_state"), "estimated") << "--bind-state estimate";
  return predicted;
}

void for_each_bind_state_mode(const Predictions& predicted,
                              const std::function<void(const Json& snapshot)>& check) {
  {
    SCOPED_TRACE("--bind-state bpf");
    check(predicted.bpf);
  }
  SCOPED_TRACE("--bind-state estimate");
  check(predicted.estimate);
}

namespace {

// The running test's name, for the "[lab]" lines.
std::string test_name() {
  const auto* test = ::testing::UnitTest::GetInstance()->current_test_info();
  return test == nullptr ? "?" : std::string(test->test_suite_name()) + "." + test->name();
}

// Compares one figure of both predictions with the kernel's count.
// `row_of` finds the row in a snapshot; `field` names the figure.
void compare(const std::string& what, int kernel, int expected, const Predictions& predicted,
             const std::function<std::optional<Json>(const Json&)>& row_of, const char* field,
             const Blind& estimate) {
  const auto bpf_row = row_of(predicted.bpf);
  const auto estimate_row = row_of(predicted.estimate);
  const auto figure = [&](const std::optional<Json>& row) {
    return row ? std::to_string(row->at(field).get<int>()) : std::string("none");
  };
  // Figures that depend on the bind state carry bounds (FIELD_min, FIELD_max):
  // equal to the figure with BPF, around the kernel's count when estimated.
  const std::string min_key = std::string(field) + "_min";
  const std::string max_key = std::string(field) + "_max";
  const bool bounded = estimate_row && estimate_row->contains(min_key);
  const auto bounds = [&](const std::optional<Json>& row) {
    return bounded && row ? " [" + std::to_string(row->at(min_key).get<int>()) + ", " +
                                std::to_string(row->at(max_key).get<int>()) + "]"
                          : std::string();
  };
  const std::string blind = estimate.error == 0 ? "" : " (blind: " + estimate.why + ")";
  lab_note(what + " | kernel " + std::to_string(kernel) + " | bpf " + figure(bpf_row) +
           " | estimate " + figure(estimate_row) + bounds(estimate_row) + blind);
  EXPECT_EQ(kernel, expected) << "the kernel disagrees with the scenario's design";
  ASSERT_TRUE(bpf_row && estimate_row) << "no row; snapshot: " << predicted.bpf.dump();
  EXPECT_EQ(bpf_row->at(field).get<int>(), kernel) << "--bind-state bpf row: " << bpf_row->dump();
  if (bounded) {
    EXPECT_EQ(bpf_row->at(min_key).get<int>(), kernel) << "exact: min is the figure";
    EXPECT_EQ(bpf_row->at(max_key).get<int>(), kernel) << "exact: max is the figure";
    EXPECT_LE(estimate_row->at(min_key).get<int>(), kernel)
        << "an estimate's worst case must never promise more than the kernel gives; row: "
        << estimate_row->dump();
    EXPECT_GE(estimate_row->at(max_key).get<int>(), kernel)
        << "the kernel gave more than the estimate's best case; row: " << estimate_row->dump();
  }
  if (estimate.error == 0) {
    EXPECT_EQ(estimate_row->at(field).get<int>(), kernel)
        << "--bind-state estimate row: " << estimate_row->dump();
  } else {
    EXPECT_EQ(estimate_row->at(field).get<int>(), kernel + estimate.error)
        << "the estimate should be off by exactly " << estimate.error << " here (" << estimate.why
        << "); row: " << estimate_row->dump();
  }
}

}  // namespace

void check_connect_free(Lab& lab, const Predictions& predicted, const std::string& local,
                        const std::string& dest, uint16_t port, int expected, const Blind& estimate,
                        const ClientOptions& probe) {
  const std::string what = "connect_free " + local + " -> " + dest + ":" + std::to_string(port);
  SCOPED_TRACE(what);
  const int kernel = lab.count_connects_until_refused(local, dest, port, probe);
  lab.release_probes();
  compare(
      what, kernel, expected, predicted,
      [&](const Json& snapshot) { return find_destination(snapshot, "tcp", local, dest, port); },
      "connect_free", estimate);
}

void check_new_destination(Lab& lab, const Predictions& predicted, const std::string& local,
                           const std::string& dest, uint16_t port, int expected,
                           const Blind& estimate, const ClientOptions& probe) {
  const std::string what = "connect_free_new_destination " + local + " (probed to " + dest + ":" +
                           std::to_string(port) + ")";
  SCOPED_TRACE(what);
  ASSERT_FALSE(find_destination(predicted.bpf, "tcp", local, dest, port))
      << "the probe destination is not new";
  const int kernel = lab.count_connects_until_refused(local, dest, port, probe);
  lab.release_probes();
  compare(
      what, kernel, expected, predicted,
      [&](const Json& snapshot) { return find_address(snapshot, "tcp", local); },
      "connect_free_new_destination", estimate);
}

void check_bind_free(Lab& lab, const Predictions& predicted, Proto proto,
                     const std::string& address, int expected, const Blind& estimate) {
  const std::string name = proto == Proto::tcp ? "tcp" : "udp";
  const std::string what = name + " bind_free " + address;
  SCOPED_TRACE(what);
  const int kernel = lab.count_binds_until_refused(proto, address);
  lab.release_probes();
  compare(
      what, kernel, expected, predicted,
      [&](const Json& snapshot) { return find_address(snapshot, name, address); }, "bind_free",
      estimate);
}

void check_udp_autobinds(Lab& lab, const Predictions& predicted, const std::string& dest,
                         uint16_t port, int expected, const Blind& estimate) {
  const std::string wildcard = wildcard_of(dest);
  const std::string what = "udp autobind (connect to " + dest + ":" + std::to_string(port) +
                           ") vs bind_free " + wildcard;
  SCOPED_TRACE(what);
  const int kernel = lab.count_udp_autobinds_until_refused(dest, port);
  lab.release_probes();
  compare(
      what, kernel, expected, predicted,
      [&](const Json& snapshot) { return find_address(snapshot, "udp", wildcard); }, "bind_free",
      estimate);
}

void lab_note(const std::string& text) {
  std::printf("[lab] %s | %s\n", test_name().c_str(), text.c_str());
  std::fflush(stdout);
}

double naive_percent(const std::string& address, uint16_t first, uint16_t last) {
  FILE* pipe = ::popen("ss -tanH", "r");
  if (pipe == nullptr) {
    fail_errno("popen ss");
  }
  const std::string want = canonical(address);
  int in_range = 0;
  char line[512];
  while (std::fgets(line, sizeof line, pipe) != nullptr) {
    std::istringstream fields(line);
    std::string state;
    std::string recv_q;
    std::string send_q;
    std::string local;
    fields >> state >> recv_q >> send_q >> local;
    const size_t colon = local.rfind(':');
    if (state == "LISTEN" || colon == std::string::npos) {
      continue;
    }
    const int port = std::atoi(local.c_str() + colon + 1);
    std::string host = local.substr(0, colon);
    if (const size_t percent = host.find('%'); percent != std::string::npos) {
      host.erase(percent);  // ss prints 10.9.0.1%v0 for device-bound sockets
    }
    if (host != "*" && canonical(host) == want && port >= first && port <= last) {
      ++in_range;
    }
  }
  ::pclose(pipe);
  const double percent = 100.0 * in_range / (last - first + 1);
  char text[160];
  std::snprintf(text, sizeof text, "naive %s: %d sockets in %d-%d = %.1f %%", want.c_str(),
                in_range, first, last, percent);
  lab_note(text);
  return percent;
}

// --- Fixture and files -----------------------------------------------------

void LabTest::SetUp() {
  ASSERT_EQ(::geteuid(), 0u) << "lab tests need root (private network namespaces, sysctls); "
                                "run them as root";
  lab_ = std::make_unique<Lab>();
}

void LabTest::TearDown() {
  lab_.reset();
}

}  // namespace ephport::lab
