// owner_scan: times the two ways of mapping socket inodes to processes,
// scan_proc_owners("/proc") and SocketOwnerIterator::scan() (BPF
// iter/task_file), on whatever sockets the system holds, and the BPF
// program's one-time load. As root, with a population held elsewhere:
//
//   ip netns add owners && ip -n owners link set lo up
//   (sleep infinity | ip netns exec owners build/bench/population --sockets 100000) &
//   ... wait for "ready" ...
//   build/bench/owner_scan [--rounds N]      (default 7)
//
// Each round times one construction of SocketOwnerIterator (load, attach and
// its self-check walk of its own process), then one /proc scan and one BPF
// scan on an iterator loaded before the rounds, alternating which goes
// first. It prints the median, min and max wall and CPU (user + sys) time of
// each in ms, and what each found.

#include <time.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <string>
#include <string_view>
#include <vector>

#include "collect/linux/proc_owners.h"
#include "collect/linux/socket_owners_bpf.h"
#include "snapshot/owner_table.h"

namespace {

using ephport::OwnerTable;
using ephport::SocketOwnerIterator;

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
  std::printf("| %s | %zu | %.1f | %.1f | %.1f | %.1f |\n", label, samples.size(), median(wall),
              *std::min_element(wall.begin(), wall.end()),
              *std::max_element(wall.begin(), wall.end()), median(cpu));
}

int run(int rounds) {
  std::vector<Sample> loads;
  std::vector<Sample> proc_scans;
  std::vector<Sample> bpf_scans;
  size_t proc_sockets = 0;
  size_t proc_processes = 0;
  size_t bpf_sockets = 0;
  size_t bpf_processes = 0;

  SocketOwnerIterator iterator;
  for (int round = 0; round < rounds; ++round) {
    loads.push_back(timed([] { SocketOwnerIterator loaded; }));
    auto proc_scan = [&] {
      proc_scans.push_back(timed([&] {
        const ephport::OwnerTable table = ephport::scan_proc_owners("/proc");
        proc_sockets = table.size();
        proc_processes = table.processes_scanned();
      }));
    };
    auto bpf_scan = [&] {
      bpf_scans.push_back(timed([&] {
        OwnerTable table;
        bpf_processes = iterator.scan(table);
        bpf_sockets = table.size();
      }));
    };
    if (round % 2 == 0) {
      proc_scan();
      bpf_scan();
    } else {
      bpf_scan();
      proc_scan();
    }
  }
  std::printf("| what | runs | median ms | min ms | max ms | median CPU ms |\n");
  std::printf("| --- | ---: | ---: | ---: | ---: | ---: |\n");
  report("scan_proc_owners(\"/proc\")", proc_scans);
  report("SocketOwnerIterator::scan()", bpf_scans);
  report("SocketOwnerIterator() (load, attach, self-check)", loads);
  std::printf("\n/proc: %zu socket inodes, %zu processes; BPF: %zu socket inodes, %zu processes\n",
              proc_sockets, proc_processes, bpf_sockets, bpf_processes);
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
    std::fprintf(stderr, "usage: owner_scan [--rounds N]   (1 <= N <= 1000, default 7)\n");
    return 2;
  }
  try {
    return run(rounds);
  } catch (const std::exception& error) {
    std::fprintf(stderr, "owner_scan: %s\n", error.what());
    return 1;
  }
}
