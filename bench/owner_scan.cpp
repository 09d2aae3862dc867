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

#include <cstdio>
#include <exception>
#include <string>
#include <vector>

#include "collect/linux/proc_owners.h"
#include "collect/linux/socket_owners_bpf.h"
#include "snapshot/owner_table.h"
#include "timing.h"

namespace {

using ephport::OwnerTable;
using ephport::SocketOwnerIterator;
using ephport::bench::Sample;
using ephport::bench::summarize;
using ephport::bench::Summary;
using ephport::bench::timed;

void report(const char* label, const std::vector<Sample>& samples) {
  const Summary summary = summarize(samples);
  std::printf("| %s | %zu | %.1f | %.1f | %.1f | %.1f |\n", label, samples.size(),
              summary.wall.median, summary.wall.min, summary.wall.max, summary.cpu.median);
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
  const int rounds = ephport::bench::rounds_from_args(argc, argv);
  if (rounds == 0) {
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
