// population: opens a TCP socket population in the current network
// namespace and holds it for the benchmark (docs/performance.md). Run it in a
// namespace of its own (`ip netns exec NAME population ...` or `unshare -n`):
// it changes that namespace's ip_local_port_range.
//
//   population --sockets N [--sources S] [--listeners L] [--v6-percent P]
//              [--time-wait K] [--bound-only B] [--no-ramp] [--max-hold SECONDS]
//
// What it builds, N sockets in all:
//   - L listeners on 127.0.0.1 (ports 1001..) and L on [::1] (ports 1101..),
//     plus 127.0.0.1:1000 for the TIME_WAIT connections, all below the
//     ephemeral range, which it widens to 1024-65535;
//   - B bound-only sockets (bind(127.0.0.1:0), no listen(), no connect());
//   - established pairs (client + accepted server): each client binds one of
//     S source addresses 127.1.x.y with IP_BIND_ADDRESS_NO_PORT, then
//     connect()s to a listener; P percent of the pairs are IPv6, [::1] to
//     [::1];
//   - about K TIME_WAIT sockets (the client closes first). TIME_WAIT lasts
//     60 s, so the program replaces them as they expire, a slice a second:
//     it ramps up over 60 s before it says ready (with --no-ramp it makes
//     all K at once, and they expire together 60 s later).
// Defaults: S 64, L 4, P 25, K N/50, B N/1000.
//
// Each established pair costs two file descriptors. It raises RLIMIT_NOFILE
// to what one process needs, and fs.nr_open (a global sysctl) if that is too
// low, putting fs.nr_open back when it stops. Where the hard limit cannot be
// raised (no CAP_SYS_RESOURCE, as in some containers), it spreads the pairs
// over worker processes, each within the limit; they hold their sockets
// until the main process tells them to stop, and die with it.
//
// When set up it prints "ready N" (N = sockets it holds) on stdout, then holds
// everything until stdin closes (or says "stop"), SIGINT/SIGTERM/SIGHUP, or
// --max-hold (default 21600 s) runs out. It closes the connections with RST,
// so no TIME_WAIT is left behind, prints "stopped", and exits 0; on a failure
// it prints one line on stderr and exits 1.

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace {

using Clock = std::chrono::steady_clock;

constexpr uint16_t kV4ListenerBase = 1001;
constexpr uint16_t kV6ListenerBase = 1101;
constexpr uint16_t kTimeWaitListenerPort = 1000;
constexpr int kMaxListeners = 64;
constexpr int kMaxSources = 254 * 254;
constexpr auto kTimeWaitLife = std::chrono::seconds(60);
constexpr int kRampSlices = 60;  // one slice a second over kTimeWaitLife

volatile sig_atomic_t stop_signal = 0;

void on_stop_signal(int signo) {
  stop_signal = signo;
}

[[noreturn]] void fail(const std::string& what) {
  throw std::runtime_error(what + ": " + std::strerror(errno));
}

struct Options {
  long sockets = 0;
  int sources = 64;
  int listeners = 4;
  int v6_percent = 25;
  long time_wait = -1;   // -1: N/50
  long bound_only = -1;  // -1: N/1000
  bool ramp = true;
  long max_hold = 21600;
};

bool parse_number(const char* text, long low, long high, long& out) {
  char* end = nullptr;
  errno = 0;
  long value = std::strtol(text, &end, 10);
  if (errno != 0 || *end != '\0' || end == text || value < low || value > high) {
    return false;
  }
  out = value;
  return true;
}

bool parse(int argc, char** argv, Options& options) {
  for (int i = 1; i < argc; ++i) {
    std::string_view arg = argv[i];
    if (arg == "--no-ramp") {
      options.ramp = false;
      continue;
    }
    if (i + 1 >= argc) {
      return false;
    }
    const char* value = argv[++i];
    long number = 0;
    bool ok = false;
    if (arg == "--sockets") {
      ok = parse_number(value, 1, 4000000, options.sockets);
    } else if (arg == "--sources") {
      ok = parse_number(value, 1, kMaxSources, number);
      options.sources = static_cast<int>(number);
    } else if (arg == "--listeners") {
      ok = parse_number(value, 1, kMaxListeners, number);
      options.listeners = static_cast<int>(number);
    } else if (arg == "--v6-percent") {
      ok = parse_number(value, 0, 100, number);
      options.v6_percent = static_cast<int>(number);
    } else if (arg == "--time-wait") {
      ok = parse_number(value, 0, 1000000, options.time_wait);
    } else if (arg == "--bound-only") {
      ok = parse_number(value, 0, 1000000, options.bound_only);
    } else if (arg == "--max-hold") {
      ok = parse_number(value, 1, 7 * 86400, options.max_hold);
    }
    if (!ok) {
      return false;
    }
  }
  return options.sockets > 0;
}

std::string read_text(const char* path) {
  char text[256] = {};
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    fail(std::string("cannot open ") + path);
  }
  ssize_t length = read(fd, text, sizeof text - 1);
  close(fd);
  if (length < 0) {
    fail(std::string("cannot read ") + path);
  }
  return std::string(text, static_cast<size_t>(length));
}

void write_text(const char* path, const std::string& text) {
  int fd = open(path, O_WRONLY | O_CLOEXEC);
  if (fd < 0) {
    fail(std::string("cannot open ") + path);
  }
  ssize_t written = write(fd, text.data(), text.size());
  close(fd);
  if (written != static_cast<ssize_t>(text.size())) {
    fail(std::string("cannot write ") + path);
  }
}

// fs.nr_open is global: raised only when needed, put back by the destructor.
class NrOpenGuard {
 public:
  explicit NrOpenGuard(long needed) {
    const long current = std::strtol(read_text("/proc/sys/fs/nr_open").c_str(), nullptr, 10);
    if (current < needed) {
      write_text("/proc/sys/fs/nr_open", std::to_string(needed) + "\n");
      original_ = current;
      std::fprintf(stderr, "population: raised fs.nr_open from %ld to %ld until it stops\n",
                   current, needed);
    }
  }
  ~NrOpenGuard() {
    if (original_ > 0) {
      try {
        write_text("/proc/sys/fs/nr_open", std::to_string(original_) + "\n");
      } catch (const std::exception& error) {
        std::fprintf(stderr, "population: could not restore fs.nr_open=%ld: %s\n", original_,
                     error.what());
      }
    }
  }
  NrOpenGuard(const NrOpenGuard&) = delete;
  NrOpenGuard& operator=(const NrOpenGuard&) = delete;

 private:
  long original_ = 0;
};

// An IPv4 or IPv6 socket address.
struct Endpoint {
  sockaddr_storage storage{};
  socklen_t length = 0;
  int family = AF_INET;

  static Endpoint v4(uint32_t host_order_address, uint16_t port) {
    Endpoint endpoint;
    auto* in = reinterpret_cast<sockaddr_in*>(&endpoint.storage);
    in->sin_family = AF_INET;
    in->sin_port = htons(port);
    in->sin_addr.s_addr = htonl(host_order_address);
    endpoint.length = sizeof(sockaddr_in);
    return endpoint;
  }
  static Endpoint v6_loopback(uint16_t port) {
    Endpoint endpoint;
    auto* in6 = reinterpret_cast<sockaddr_in6*>(&endpoint.storage);
    in6->sin6_family = AF_INET6;
    in6->sin6_port = htons(port);
    in6->sin6_addr = in6addr_loopback;
    endpoint.length = sizeof(sockaddr_in6);
    endpoint.family = AF_INET6;
    return endpoint;
  }
  const sockaddr* address() const { return reinterpret_cast<const sockaddr*>(&storage); }
};

int tcp_socket(int family) {
  int fd = socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    fail("socket");
  }
  return fd;
}

void set_int_option(int fd, int level, int name, int value, const char* what) {
  if (setsockopt(fd, level, name, &value, sizeof value) < 0) {
    fail(what);
  }
}

// Source j: 127.1.(j / 254).(j % 254 + 1), all on lo.
uint32_t source_address(int j) {
  return (127u << 24) | (1u << 16) | (static_cast<uint32_t>(j / 254) << 8) |
         static_cast<uint32_t>(j % 254 + 1);
}

class Population {
 public:
  explicit Population(const Options& options) : options_(options) {}

  ~Population() {
    abort_pairs();
    for (const std::vector<int>* group : {&listeners_, &bound_}) {
      for (int fd : *group) {
        close(fd);
      }
    }
  }
  Population(const Population&) = delete;
  Population& operator=(const Population&) = delete;

  // Closes the pairs with RST instead of FIN: no TIME_WAIT left for the
  // namespace to reap.
  void abort_pairs() {
    const linger abort{1, 0};
    for (int fd : clients_) {
      setsockopt(fd, SOL_SOCKET, SO_LINGER, &abort, sizeof abort);
      close(fd);
    }
    for (int fd : servers_) {
      close(fd);
    }
    clients_.clear();
    servers_.clear();
  }

  // A worker keeps the listeners (it accepts) but not the bound-only sockets.
  void close_bound() {
    for (int fd : bound_) {
      close(fd);
    }
    bound_.clear();
  }

  void listen_all(bool with_v6) {
    for (int i = 0; i < options_.listeners; ++i) {
      v4_listeners_.push_back(
          Endpoint::v4(INADDR_LOOPBACK, static_cast<uint16_t>(kV4ListenerBase + i)));
      if (with_v6) {
        v6_listeners_.push_back(Endpoint::v6_loopback(static_cast<uint16_t>(kV6ListenerBase + i)));
      }
    }
    for (const std::vector<Endpoint>* group : {&v4_listeners_, &v6_listeners_}) {
      for (const Endpoint& endpoint : *group) {
        listeners_.push_back(listen_on(endpoint));
      }
    }
    time_wait_listener_ = listen_on(time_wait_target_);
    listeners_.push_back(time_wait_listener_);
  }

  void bind_only(long count) {
    const Endpoint any_port = Endpoint::v4(INADDR_LOOPBACK, 0);
    for (long i = 0; i < count; ++i) {
      int fd = tcp_socket(AF_INET);
      bound_.push_back(fd);
      if (bind(fd, any_port.address(), any_port.length) < 0) {
        fail("bind(127.0.0.1:0)");
      }
    }
  }

  // One accepted connection from source j (or ::1) to listener `index`.
  // Returns {client, server}.
  std::pair<int, int> connect_one(bool v6, int source, int index) const {
    const size_t count = v6 ? v6_listeners_.size() : v4_listeners_.size();
    const size_t slot = static_cast<size_t>(index) % count;
    return connect_to(v6 ? Endpoint::v6_loopback(0) : Endpoint::v4(source_address(source), 0),
                      v6 ? v6_listeners_[slot] : v4_listeners_[slot],
                      listeners_[v6 ? v4_listeners_.size() + slot : slot]);
  }

  void add_pair(bool v6, long i) {
    const int source = static_cast<int>(i % options_.sources);
    const int index = static_cast<int>(i / options_.sources);
    auto [client, server] = connect_one(v6, source, index);
    clients_.push_back(client);
    servers_.push_back(server);
  }

  // Creates `count` TIME_WAIT sockets: the client closes first.
  void make_time_wait(long count) {
    for (long i = 0; i < count; ++i) {
      const Endpoint source =
          Endpoint::v4(source_address(static_cast<int>(tw_serial_ % options_.sources)), 0);
      auto [client, server] = connect_to(source, time_wait_target_, time_wait_listener_);
      ++tw_serial_;
      close(client);
      close(server);
    }
    if (count > 0) {
      tw_batches_.push_back({Clock::now(), count});
    }
  }

  // Keeps about `target` TIME_WAIT sockets: forgets the batches the kernel
  // has reaped, then makes at most `limit` new ones.
  void refresh_time_wait(long target, long limit) {
    const Clock::time_point now = Clock::now();
    while (!tw_batches_.empty() && now - tw_batches_.front().made >= kTimeWaitLife) {
      tw_batches_.pop_front();
    }
    long alive = 0;
    for (const Batch& batch : tw_batches_) {
      alive += batch.count;
    }
    make_time_wait(std::min(target - alive, limit));
  }

  long time_wait_alive() const {
    long alive = 0;
    for (const Batch& batch : tw_batches_) {
      alive += batch.count;
    }
    return alive;
  }

 private:
  struct Batch {
    Clock::time_point made;
    long count;
  };

  static int listen_on(const Endpoint& endpoint) {
    int fd = tcp_socket(endpoint.family);
    if (endpoint.family == AF_INET6) {
      set_int_option(fd, IPPROTO_IPV6, IPV6_V6ONLY, 1, "IPV6_V6ONLY");
    }
    if (bind(fd, endpoint.address(), endpoint.length) < 0 || listen(fd, 4096) < 0) {
      close(fd);
      fail("listener bind/listen");
    }
    return fd;
  }

  // A client bound to `local` (IP_BIND_ADDRESS_NO_PORT: the port comes with
  // connect()) connected to `target`, and its peer accepted on `listener`.
  static std::pair<int, int> connect_to(const Endpoint& local, const Endpoint& target,
                                        int listener) {
    int client = tcp_socket(target.family);
    set_int_option(client, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, 1, "IP_BIND_ADDRESS_NO_PORT");
    if (bind(client, local.address(), local.length) < 0 ||
        connect(client, target.address(), target.length) < 0) {
      close(client);
      fail("client bind/connect");
    }
    int server = accept4(listener, nullptr, nullptr, SOCK_CLOEXEC);
    if (server < 0) {
      close(client);
      fail("accept");
    }
    return {client, server};
  }

  const Options& options_;
  std::vector<Endpoint> v4_listeners_;
  std::vector<Endpoint> v6_listeners_;
  // TIME_WAIT connections go to a listener of their own that only the main
  // process accepts on, so they never mix with a worker's pairs.
  const Endpoint time_wait_target_ = Endpoint::v4(INADDR_LOOPBACK, kTimeWaitListenerPort);
  int time_wait_listener_ = -1;
  std::vector<int> listeners_;  // v4, v6, then the TIME_WAIT one
  std::vector<int> bound_;
  std::vector<int> clients_;
  std::vector<int> servers_;
  std::deque<Batch> tw_batches_;
  long tw_serial_ = 0;
};

bool ipv6_loopback_usable() {
  int fd = socket(AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    return false;
  }
  const Endpoint loopback = Endpoint::v6_loopback(0);
  const bool usable = bind(fd, loopback.address(), loopback.length) == 0;
  close(fd);
  return usable;
}

// Raises RLIMIT_NOFILE towards `wanted` (and fs.nr_open with it, through
// `nr_open`); returns the descriptors one process may now open.
long raise_fd_limit(long wanted, std::optional<NrOpenGuard>& nr_open) {
  rlimit current{};
  if (getrlimit(RLIMIT_NOFILE, &current) < 0) {
    fail("getrlimit(RLIMIT_NOFILE)");
  }
  if (current.rlim_max != RLIM_INFINITY && static_cast<rlim_t>(wanted) > current.rlim_max) {
    nr_open.emplace(wanted);
    const rlimit raised{static_cast<rlim_t>(wanted), static_cast<rlim_t>(wanted)};
    if (setrlimit(RLIMIT_NOFILE, &raised) == 0) {
      return wanted;
    }
    if (errno != EPERM) {
      fail("setrlimit(RLIMIT_NOFILE, " + std::to_string(wanted) + ")");
    }
    nr_open.reset();  // puts fs.nr_open back: it cannot help
    std::fprintf(stderr,
                 "population: RLIMIT_NOFILE cannot go above %llu here (no CAP_SYS_RESOURCE): "
                 "spreading the pairs over worker processes\n",
                 static_cast<unsigned long long>(current.rlim_max));
  }
  const rlimit soft{current.rlim_max, current.rlim_max};
  if (setrlimit(RLIMIT_NOFILE, &soft) < 0) {
    fail("setrlimit(RLIMIT_NOFILE)");
  }
  return current.rlim_max == RLIM_INFINITY ? wanted
                                           : std::min(wanted, static_cast<long>(current.rlim_max));
}

// Waits up to one second for `fd` to be readable; false once it is time to
// stop (a stop signal, end of file, or "stop" read from it).
bool wait_a_tick(int fd) {
  pollfd input{fd, POLLIN, 0};
  int ready = poll(&input, 1, 1000);
  if (stop_signal != 0) {
    return false;
  }
  if (ready <= 0) {
    return true;  // timeout, or EINTR from a signal we do not stop for
  }
  char text[64];
  ssize_t length = read(fd, text, sizeof text);
  return length > 0 &&
         std::string_view(text, static_cast<size_t>(length)).find("stop") == std::string_view::npos;
}

struct Plan {
  long pairs = 0;
  long v6_pairs = 0;
  long max_hold = 0;
};

// A worker process: makes pairs [begin, end), reports 'r' (or 'f') on
// `status`, holds them until `hold` reaches end of file, then aborts them.
[[noreturn]] void run_worker(Population& population, const Plan& plan, long begin, long end,
                             int hold, int status) {
  char result = 'r';
  try {
    population.close_bound();
    for (long i = begin; i < end && stop_signal == 0; ++i) {
      const bool v6 = i < plan.v6_pairs;
      population.add_pair(v6, v6 ? i : i - plan.v6_pairs);
    }
  } catch (const std::exception& error) {
    std::fprintf(stderr, "population: worker %d: %s\n", static_cast<int>(getpid()), error.what());
    result = 'f';
  }
  if (write(status, &result, 1) != 1 || result != 'r') {
    _exit(1);
  }
  // The main process adds a minute of slack to its own hold before it stops.
  for (long second = 0; second < plan.max_hold + 60 && wait_a_tick(hold); ++second) {
  }
  population.abort_pairs();
  _exit(0);
}

// The worker processes, and the pipes that start and stop them.
class Workers {
 public:
  Workers() {
    if (pipe2(hold_, O_CLOEXEC) < 0 || pipe2(status_, O_CLOEXEC) < 0) {
      fail("pipe2");
    }
  }
  ~Workers() {
    stop();
    for (int fd : {hold_[0], status_[0], status_[1]}) {
      close(fd);
    }
  }
  Workers(const Workers&) = delete;
  Workers& operator=(const Workers&) = delete;

  // Forks a worker for pairs [begin, end) and waits until it has made them,
  // calling `tick` about once a second meanwhile.
  template <typename Tick>
  void start(Population& population, const Plan& plan, long begin, long end, Tick tick) {
    const pid_t parent = getpid();
    const pid_t child = fork();
    if (child < 0) {
      fail("fork");
    }
    if (child == 0) {
      close(hold_[1]);
      close(status_[0]);
      if (prctl(PR_SET_PDEATHSIG, SIGTERM) < 0 || getppid() != parent) {
        _exit(1);
      }
      run_worker(population, plan, begin, end, hold_[0], status_[1]);
    }
    children_.push_back(child);
    // At most an hour, a tick a second: a worker that neither answers nor
    // exits is a failure.
    for (int second = 0; second < 3600; ++second) {
      pollfd reply{status_[0], POLLIN, 0};
      const int ready = poll(&reply, 1, 1000);
      tick();
      if (stop_signal != 0) {
        throw std::runtime_error("stopped by a signal during set-up");
      }
      if (ready > 0) {
        char result = 0;
        if (read(status_[0], &result, 1) == 1 && result == 'r') {
          return;
        }
        throw std::runtime_error("a worker failed to make its pairs");
      }
      int child_status = 0;
      if (waitpid(child, &child_status, WNOHANG) == child) {
        children_.pop_back();
        throw std::runtime_error("a worker exited during set-up");
      }
    }
    throw std::runtime_error("a worker took more than an hour to make its pairs");
  }

  // Tells the workers to abort their pairs and exit, and waits for them.
  void stop() {
    if (hold_[1] >= 0) {
      close(hold_[1]);
      hold_[1] = -1;
    }
    for (pid_t child : children_) {
      int child_status = 0;
      while (waitpid(child, &child_status, 0) < 0 && errno == EINTR) {
      }
    }
    children_.clear();
  }

 private:
  int hold_[2] = {-1, -1};
  int status_[2] = {-1, -1};
  std::vector<pid_t> children_;
};

int run(const Options& options) {
  const long time_wait = options.time_wait >= 0 ? options.time_wait : options.sockets / 50;
  const long bound_only = options.bound_only >= 0 ? options.bound_only : options.sockets / 1000;
  const bool with_v6 = options.v6_percent > 0 && ipv6_loopback_usable();
  if (options.v6_percent > 0 && !with_v6) {
    std::fprintf(stderr, "population: [::1] unusable (IPv6 off?): IPv4 only\n");
  }
  const long listener_count = options.listeners * (with_v6 ? 2 : 1) + 1;
  Plan plan;
  plan.pairs = (options.sockets - listener_count - bound_only - time_wait) / 2;
  if (plan.pairs < 0) {
    std::fprintf(stderr,
                 "population: --sockets %ld is less than the listeners, bound-only and "
                 "TIME_WAIT sockets asked for\n",
                 options.sockets);
    return 1;
  }
  plan.v6_pairs = with_v6 ? plan.pairs * options.v6_percent / 100 : 0;
  plan.max_hold = options.max_hold;

  // Descriptors besides the pairs: listeners, bound-only, pipes, stdio.
  const long reserve = listener_count + bound_only + 64;
  std::optional<NrOpenGuard> nr_open;
  const long limit = raise_fd_limit(reserve + 2 * plan.pairs, nr_open);
  if (limit < reserve + 2) {
    std::fprintf(stderr, "population: RLIMIT_NOFILE %ld leaves no room for pairs\n", limit);
    return 1;
  }
  const long pairs_per_worker = (limit - reserve) / 2;
  write_text("/proc/sys/net/ipv4/ip_local_port_range", "1024 65535\n");

  Population population(options);
  population.listen_all(with_v6);
  population.bind_only(bound_only);
  Workers workers;

  const Clock::time_point start = Clock::now();
  const long slice = options.ramp ? (time_wait + kRampSlices - 1) / kRampSlices : time_wait;
  Clock::time_point next_tick = start;
  auto tick = [&] {
    if (time_wait > 0 && Clock::now() >= next_tick) {
      population.refresh_time_wait(time_wait, slice);
      next_tick = Clock::now() + std::chrono::seconds(1);
    }
  };
  long worker_count = 0;
  for (long begin = 0; begin < plan.pairs; begin += pairs_per_worker) {
    workers.start(population, plan, begin, std::min(plan.pairs, begin + pairs_per_worker), tick);
    ++worker_count;
  }
  // The TIME_WAIT ramp: one slice a second until K are alive.
  for (int second = 0; second <= kRampSlices + 1; ++second) {
    tick();
    if (population.time_wait_alive() >= time_wait) {
      break;
    }
    if (!wait_a_tick(STDIN_FILENO)) {
      return 0;
    }
  }
  const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
  std::fprintf(stderr,
               "population: %ld listeners, %ld bound-only, %ld pairs (%ld IPv6) in %ld "
               "worker(s), ~%ld TIME_WAIT; %.1f s\n",
               listener_count, bound_only, plan.pairs, plan.v6_pairs, worker_count,
               population.time_wait_alive(), seconds);
  std::printf("ready %ld\n",
              listener_count + bound_only + 2 * plan.pairs + population.time_wait_alive());
  std::fflush(stdout);

  for (long second = 0; second < options.max_hold && wait_a_tick(STDIN_FILENO); ++second) {
    tick();
  }
  workers.stop();
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  Options options;
  if (!parse(argc, argv, options)) {
    std::fprintf(stderr,
                 "usage: population --sockets N [--sources S] [--listeners L] [--v6-percent P]\n"
                 "                  [--time-wait K] [--bound-only B] [--no-ramp] "
                 "[--max-hold SECONDS]\n");
    return 2;
  }
  struct sigaction action {};
  action.sa_handler = on_stop_signal;
  sigemptyset(&action.sa_mask);
  for (int signo : {SIGINT, SIGTERM, SIGHUP}) {
    sigaction(signo, &action, nullptr);
  }
  signal(SIGPIPE, SIG_IGN);
  int status = 1;
  try {
    status = run(options);
  } catch (const std::exception& error) {
    std::fprintf(stderr, "population: %s\n", error.what());
    return 1;
  }
  std::printf("stopped\n");
  std::fflush(stdout);
  return status;
}
