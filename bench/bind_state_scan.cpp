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

#include <cstdio>
#include <exception>
#include <vector>

#include "collect/linux/bind_state.h"
#include "timing.h"

namespace {

using ephport::BindStateReport;
using ephport::bench::Sample;
using ephport::bench::summarize;
using ephport::bench::Summary;
using ephport::bench::timed;

void report(const char* label, const std::vector<Sample>& samples) {
  const Summary summary = summarize(samples);
  std::printf("| %s | %zu | %.1f | %.1f | %.1f | %.1f | %.1f | %.1f |\n", label, samples.size(),
              summary.wall.median, summary.wall.min, summary.wall.max, summary.cpu.median,
              summary.cpu.min, summary.cpu.max);
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
  const int rounds = ephport::bench::rounds_from_args(argc, argv);
  if (rounds == 0) {
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
