#pragma once
// Timing boilerplate shared by the benches (owner_scan, bind_state_scan):
// wall and CPU (user + sys) time of one run, the median/min/max of many, and
// the "[--rounds N]" command line.

#include <time.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <string_view>
#include <vector>

namespace ephport::bench {

// CPU time of this process so far, in ms.
inline double cpu_ms() {
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

inline double median(std::vector<double> values) {
  std::sort(values.begin(), values.end());
  const size_t n = values.size();
  return n % 2 != 0 ? values[n / 2] : (values[n / 2 - 1] + values[n / 2]) / 2;
}

// Median, min and max of one measure over the samples (at least one).
struct Spread {
  double median = 0;
  double min = 0;
  double max = 0;
};

struct Summary {
  Spread wall;
  Spread cpu;
};

inline Spread spread(const std::vector<double>& values) {
  return {median(values), *std::min_element(values.begin(), values.end()),
          *std::max_element(values.begin(), values.end())};
}

inline Summary summarize(const std::vector<Sample>& samples) {
  std::vector<double> wall;
  std::vector<double> cpu;
  for (const Sample& sample : samples) {
    wall.push_back(sample.wall_ms);
    cpu.push_back(sample.cpu_ms);
  }
  return {spread(wall), spread(cpu)};
}

// "" (7 rounds) or "--rounds N"; 0 for anything else or N outside 1..1000,
// where the caller prints its usage.
inline int rounds_from_args(int argc, char** argv) {
  int rounds = 7;
  if (argc == 3 && std::string_view(argv[1]) == "--rounds") {
    rounds = std::atoi(argv[2]);
  } else if (argc != 1) {
    rounds = 0;
  }
  return rounds >= 1 && rounds <= 1000 ? rounds : 0;
}

}  // namespace ephport::bench
