// bind_state_scan: times read_bind_state(), the BPF bpf_iter/tcp walk behind
// `--bind-state bpf`, on the TCP sockets of the current network namespace.
// As root, with a population held in a namespace of its own:
//
//   ip netns add binds && ip -n binds link set lo up
//   (sleep infinity | ip netns exec binds build/bench/population --sockets 100000 --no-ramp) &
//   ... wait for "ready" ...
//   ip netns exec binds build/bench/bind_state_scan [--rounds N]      (default 7)
//
// The first call loads and attaches the program (timed apart, once); then
// each round times one read_bind_state() on the loaded program. It prints
// the median, min and max wall and CPU (user + sys) time in ms, and what the
// last walk found.

#include <time.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <string_view>
#include <vector>

#include "collect/linux/bind_state.h"

namespace {

using ephport::BindStateReport;

double cpu_ms() {
  timespec now{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &now);
  return static_cast<double>(now.tv_sec) * 1e3 + static_cast<double>(now.tv_nsec) / 1e6;
}

struct Sample {
  double wall_ms = 0;
  double cpu_ms = 0;
};

// Times `work` once.
template <typename Work>
Sample timed(Work work) {
  const auto start = std::chrono::steady_clock::now();
  const double cpu_start = cpu_ms();
  work();
  return {
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count(),
      cpu_ms() - cpu_start};
}

double median(std::vector<double> values) {
  std::sort(values.begin(), values.end());
  const size_t n = values.size();
  return n % 2 != 0 ? values[n / 2] : (values[n / 2 - 1] + values[n / 2]) / 2;
}

void report(const char* label, const std::vector<Sample>& samples) {
  std::vector<double> wall;
  std::vector<double> cpu;
  for (const Sample& sample : samples) {
    wall.push_back(sample.wall_ms);
    cpu.push_back(sample.cpu_ms);
  }
  std::printf("| %s | %zu | %.1f | %.1f | %.1f | %.1f | %.1f | %.1f |\n", label, samples.size(),
              median(wall), *std::min_element(wall.begin(), wall.end()),
              *std::max_element(wall.begin(), wall.end()), median(cpu),
              *std::min_element(cpu.begin(), cpu.end()), *std::max_element(cpu.begin(), cpu.end()));
}

int run(int rounds) {
  BindStateReport found;
  const Sample load = timed([&] { found = ephport::read_bind_state(); });
  std::vector<Sample> walks;
  walks.reserve(static_cast<size_t>(rounds));
  for (int round = 0; round < rounds; ++round) {
    walks.push_back(timed([&] { found = ephport::read_bind_state(); }));
  }
  std::printf(
      "| what | runs | median ms | min ms | max ms | median CPU ms | min CPU ms | max CPU ms |\n");
  std::printf("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |\n");
  report("read_bind_state()", walks);
  report("first read_bind_state() (load, attach, walk)", {load});
  std::printf(
      "\n%llu sockets walked, %u bind-owned ports, %llu SO_REUSEADDR, %llu SO_REUSEPORT, "
      "%llu IP_LOCAL_PORT_RANGE\n",
      static_cast<unsigned long long>(found.sockets), found.bind_owned.size(),
      static_cast<unsigned long long>(found.reuseaddr),
      static_cast<unsigned long long>(found.reuseport),
      static_cast<unsigned long long>(found.local_port_range));
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  int rounds = 7;
  if (argc == 3 && std::string_view(argv[1]) == "--rounds") {
    rounds = std::atoi(argv[2]);
  } else if (argc != 1) {
    rounds = 0;
  }
  if (rounds < 1 || rounds > 1000) {
    std::fprintf(stderr, "usage: bind_state_scan [--rounds N]   (1 <= N <= 1000, default 7)\n");
    return 2;
  }
  try {
    return run(rounds);
  } catch (const std::exception& error) {
    std::fprintf(stderr, "bind_state_scan: %s\n", error.what());
    return 1;
  }
}
