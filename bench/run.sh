#!/bin/bash
# The end-to-end benchmark of docs/performance.md. As root, after the
# README's install and build:
#
#   bench/run.sh [SIZES...]          (default: 10000 100000 300000)
#
# For each size it creates a network namespace, opens a population of that
# many TCP sockets in it (bench/population), then times, in the same run and
# alternating round by round, the commands below inside the namespace, each
# with its output to /dev/null: the raw sock_diag dump (the reference) and
# four variants of it (see bench/raw_dump.cpp), ephport snapshot without and
# with process attribution, ss -tan, ss -tanp and netstat -tan. Each run goes through bench/measure
# (wall time and peak RSS from wait4()).
#
# It prints a markdown report and writes it to bench/results/<date>-<host>.md.
#
# Environment:
#   EPHPORT_BUILD   build directory (default: <repo>/build)
#   ROUNDS          runs per command and size (default 7)
#   BUDGET          seconds a command may spend per size; a command whose
#                   next run would exceed it stops early, after at least one
#                   run (default 60; this caps the slow ss -tanp)
#   TIMEOUT         seconds one run may take before it is killed (default 600)
#   SETUP_TIMEOUT   seconds the population may take to be ready (default 1800)
#   RESULTS         directory for the report (default: bench/results)
#   POPULATION_ARGS extra options for bench/population (e.g. "--no-ramp")
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
repo=$(dirname "$here")
build=${EPHPORT_BUILD:-$repo/build}
rounds=${ROUNDS:-7}
budget=${BUDGET:-60}
timeout=${TIMEOUT:-600}
setup_timeout=${SETUP_TIMEOUT:-1800}
results=${RESULTS:-$here/results}
population_args=${POPULATION_ARGS:-}

if [ $# -gt 0 ]; then
  sizes=("$@")
else
  sizes=(10000 100000 300000)
fi
for size in "${sizes[@]}"; do
  case $size in
    '' | *[!0-9]*) echo "run.sh: '$size' is not a socket count" >&2; exit 2 ;;
  esac
done
if [ "$(id -u)" -ne 0 ]; then
  echo "run.sh: needs root (network namespaces, fs.nr_open, RLIMIT_NOFILE)" >&2
  exit 1
fi

ephport=$build/ephport
raw_dump=$build/bench/raw_dump
population=$build/bench/population
measure=$build/bench/measure
for program in "$ephport" "$raw_dump" "$population" "$measure"; do
  if [ ! -x "$program" ]; then
    echo "run.sh: $program is missing; build first:" >&2
    echo "  cmake -S $repo -B $build -DCMAKE_BUILD_TYPE=Release && cmake --build $build -j2" >&2
    exit 1
  fi
done

# How the build was configured: timings of a Debug or sanitizer build mean little.
build_type=$(sed -n 's/^CMAKE_BUILD_TYPE:[A-Z]*=//p' "$build/CMakeCache.txt" 2>/dev/null)
sanitize=$(sed -n 's/^EPHPORT_SANITIZE:[A-Z]*=//p' "$build/CMakeCache.txt" 2>/dev/null)
case "$build_type/$sanitize" in
  Release/OFF | RelWithDebInfo/OFF | MinSizeRel/OFF) ;;
  *) echo "run.sh: warning: $build is a '${build_type:-?}' build (EPHPORT_SANITIZE=${sanitize:-?});" \
    "use Release or RelWithDebInfo without sanitizers for meaningful figures" >&2 ;;
esac

# label|command (run inside the namespace; the first is the reference)
commands=(
  "raw dump (reference)|$raw_dump"
  "raw dump, states 1-12|$raw_dump --states 1-12"
  "raw dump, one walk (AF_UNSPEC)|$raw_dump --walk unspec"
  "raw dump, one walk + UDP (ephport's requests)|$raw_dump --walk unspec --udp"
  "ephport --no-owners --bind-state estimate --format json|$ephport snapshot --no-owners --bind-state estimate --format json"
  "ephport --no-owners --bind-state estimate --format table|$ephport snapshot --no-owners --bind-state estimate --format table"
  "ephport --no-owners --format json (BPF bind state)|$ephport snapshot --no-owners --format json"
  "ephport --bind-state estimate --owner-source procfs --format json (owners from /proc)|$ephport snapshot --bind-state estimate --owner-source procfs --format json"
  "ephport --bind-state estimate --format json (owners by BPF walk)|$ephport snapshot --bind-state estimate --format json"
  "ephport --format json (owners and bind state by BPF)|$ephport snapshot --format json"
  "ephport --processes --format table (owners and bind state by BPF)|$ephport snapshot --processes --format table"
  "ss -tan|ss -tan"
  "ss -tanp|ss -tanp"
  "netstat -tan|netstat -tan"
)
for tool in ss netstat; do
  if ! command -v "$tool" >/dev/null; then
    echo "run.sh: $tool not found, its rows are left out (Debian: apt-get install" \
      "$([ $tool = ss ] && echo iproute2 || echo net-tools))" >&2
    kept=()
    for entry in "${commands[@]}"; do
      case ${entry#*|} in "$tool "*) ;; *) kept+=("$entry") ;; esac
    done
    commands=("${kept[@]}")
  fi
done
command_count=${#commands[@]}

work=$(mktemp -d)
namespace=""
population_pid=""
cleanup() {
  if [ -n "$population_pid" ]; then
    kill -TERM "$population_pid" 2>/dev/null || true
    wait "$population_pid" 2>/dev/null || true
    population_pid=""
  fi
  if [ -n "$namespace" ]; then
    ip netns delete "$namespace" 2>/dev/null || true
    namespace=""
  fi
}
trap 'cleanup; rm -rf "$work"' EXIT
trap 'exit 130' INT TERM

now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", b - a }'; }

# One timed run: appends "wall_ns maxrss_kib status cpu_ns" to $work/<size>.<index>.
run_one() {
  local size=$1 index=$2 line
  local command=${commands[$index]#*|}
  # shellcheck disable=SC2086  # the command is a word list by design
  line=$(ip netns exec "$namespace" "$measure" --timeout "$timeout" -- $command)
  # shellcheck disable=SC2086  # split "wall_ns N maxrss_kib N ..." into words
  set -- $line
  echo "$2 $4 $6 $(($8 + ${10}))" >> "$work/$size.$index"
  if [ "$6" != 0 ]; then
    echo "run.sh: '$command' exited with status $6 at $size sockets" >&2
  fi
}

# Sum of the wall times so far (s) and the last one, for the budget.
spent() { awk '{ s += $1 } END { printf "%.3f %.3f", s / 1e9, $1 / 1e9 }' "$1"; }

for size in "${sizes[@]}"; do
  namespace=ephport-bench-$$-$size
  ip netns add "$namespace"
  ip -n "$namespace" link set lo up
  echo "== $size sockets: opening the population" >&2
  setup_start=$(now)
  coproc POPULATION {
    # shellcheck disable=SC2086
    exec ip netns exec "$namespace" "$population" --sockets "$size" $population_args
  }
  # shellcheck disable=SC2153  # POPULATION_PID is set by coproc
  population_pid=$POPULATION_PID
  reply=""
  read -r -t "$setup_timeout" reply held <&"${POPULATION[0]}" || true
  if [ "$reply" != ready ]; then
    echo "run.sh: the population of $size sockets did not get ready within ${setup_timeout} s" >&2
    exit 1
  fi
  setup_seconds=$(elapsed "$setup_start" "$(now)")
  echo "$setup_seconds" > "$work/$size.setup"
  echo "$held" > "$work/$size.held"
  # What each sees, for the report; a failure here shows as "?" and again,
  # run by run, in the "failed" column.
  count() { local value; value=$("$@" 2>/dev/null) || value=""; echo "${value:-?}"; }
  count_raw() { ip netns exec "$namespace" "$raw_dump" | awk '{ print $2 }'; }
  count_ss() { ip netns exec "$namespace" ss -tan | awk 'END { print NR - 1 }'; }
  count_ephport() {
    ip netns exec "$namespace" "$ephport" snapshot --no-owners --format json --proto tcp |
      tr -d ' \n' | sed -n 's/.*"tcp":{[^[]*"sockets":\([0-9]*\).*/\1/p'
  }
  count count_raw > "$work/$size.messages"
  count count_ss > "$work/$size.ss"
  count count_ephport > "$work/$size.ephport"
  echo "== $size sockets ready after $setup_seconds s (holds $held; raw dump" \
    "$(cat "$work/$size.messages"), ss -tan $(cat "$work/$size.ss")," \
    "ephport $(cat "$work/$size.ephport")); timing" >&2

  cut -d' ' -f1 /proc/loadavg > "$work/$size.load"
  # Warm-up, untimed: binaries and libraries into the page cache.
  for index in 0 5; do
    # shellcheck disable=SC2086
    ip netns exec "$namespace" "$measure" -- ${commands[$index]#*|} > /dev/null
  done
  for round in $(seq 1 "$rounds"); do
    # Start each round one command later, so no command always runs first.
    for step in $(seq 0 $((command_count - 1))); do
      index=$(((round - 1 + step) % command_count))
      file=$work/$size.$index
      if [ -s "$file" ]; then
        read -r total last <<< "$(spent "$file")"
        if awk -v t="$total" -v l="$last" -v b="$budget" 'BEGIN { exit !(t + l > b) }'; then
          continue
        fi
      fi
      run_one "$size" "$index"
    done
    echo "   round $round of $rounds done" >&2
  done
  echo "$(cat "$work/$size.load") before, $(cut -d' ' -f1 /proc/loadavg) after" > "$work/$size.load"

  echo stop >&"${POPULATION[1]}" || true
  wait "$population_pid" || true
  population_pid=""
  ip netns delete "$namespace"
  namespace=""
  # Let the kernel finish tearing the namespace down before the next size.
  sleep 5
done

# --- Report --------------------------------------------------------------

# Of one sample file: runs, median/min/max wall ms, peak RSS MiB, failed
# runs, median CPU ms; "-" where there are no runs.
stats() {
  if [ ! -s "$1" ]; then
    echo "0 - - - - - -"
    return
  fi
  local cpu
  cpu=$(sort -n -k4,4 "$1" | awk '{ v[NR] = $4 }
    END { printf "%.1f", (NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2) / 1e6 }')
  sort -n -k1,1 "$1" | awk -v cpu="$cpu" '
    { wall[NR] = $1; if ($2 > rss) rss = $2; if ($3 != 0) failed++ }
    END {
      median = NR % 2 ? wall[(NR + 1) / 2] : (wall[NR / 2] + wall[NR / 2 + 1]) / 2
      printf "%d %.1f %.1f %.1f %.1f %d %s\n", NR, median / 1e6, wall[1] / 1e6, wall[NR] / 1e6,
        rss / 1024, failed, cpu
    }'
}
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0 && a != "-") printf "%.2fx", a / b; else printf "-" }'; }

host=$(hostname -s)
day=$(date -u +%Y-%m-%d)
mkdir -p "$results"
report=$results/$day-$host.md
serial=2
while [ -e "$report" ]; do
  report=$results/$day-$host-$serial.md
  serial=$((serial + 1))
done
commit=$(git -C "$repo" describe --always --dirty 2>/dev/null || echo unknown)
cpu=$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)
memory=$(awk '/^MemTotal/ { printf "%.0f GiB", $2 / 1048576 }' /proc/meminfo)
floor=$("$measure" -- /bin/true | awk '{ printf "%.1f", $4 / 1024 }')

{
  echo "# ephport benchmark, $day, $host"
  echo
  echo "- Command: \`bench/run.sh ${sizes[*]}\` (ROUNDS=$rounds BUDGET=${budget}s${population_args:+ POPULATION_ARGS=\"$population_args\"})"
  echo "- Kernel $(uname -r), $cpu, $(nproc) cores, $memory; ephport $commit ($("$ephport" --version 2>/dev/null | head -1 || true)), ${build_type:-?} build in $build"
  echo "- ss: $(ss -V 2>/dev/null | head -1); netstat: $(netstat --version 2>/dev/null | head -1)"
  echo "- Medians of the runs; ratio = median / median of the raw dump (reference) at the same size, same run."
  echo "  CPU = the child's user + sys time (rusage); it is less disturbed than wall time by other load."
  echo "  Peak RSS = largest ru_maxrss of the runs (bench/measure; its own floor, \`measure -- /bin/true\`: $floor MiB)."
  echo
  header="| command |"
  rule="| --- |"
  for size in "${sizes[@]}"; do
    header+=" $size |"
    rule+=" ---: |"
  done
  # summary TITLE FIELD: one row per command, one column per size; FIELD is
  # wall (ratio and median), cpu (ratio and median) or rss.
  summary() {
    echo "## $1"
    echo
    echo "$header"
    echo "$rule"
    local index size runs median rss cpu reference reference_cpu row
    for index in $(seq 0 $((command_count - 1))); do
      row="| ${commands[$index]%%|*} |"
      for size in "${sizes[@]}"; do
        read -r _ reference _ _ _ _ reference_cpu <<< "$(stats "$work/$size.0")"
        read -r runs median _ _ rss _ cpu <<< "$(stats "$work/$size.$index")"
        case $2 in
          wall) row+=" $(ratio "$median" "$reference") ($median ms, n=$runs) |" ;;
          cpu) row+=" $(ratio "$cpu" "$reference_cpu") ($cpu ms) |" ;;
          rss) row+=" $rss |" ;;
        esac
      done
      echo "$row"
    done
    echo
  }
  summary "Median wall time, ratio to the raw dump" wall
  summary "Median CPU time (user + sys), ratio to the raw dump's" cpu
  summary "Peak RSS (MiB)" rss
  for size in "${sizes[@]}"; do
    echo
    echo "## $size sockets"
    echo
    echo "Population ready after $(cat "$work/$size.setup") s, holding $(cat "$work/$size.held") sockets;" \
      "the raw dump saw $(cat "$work/$size.messages") TCP sockets, \`ss -tan\` $(cat "$work/$size.ss")," \
      "ephport $(cat "$work/$size.ephport"). Load average (1 min) $(cat "$work/$size.load") the timing."
    echo
    echo "| command | runs | median ms | min ms | max ms | ratio | CPU ms | CPU ratio | peak RSS MiB | failed |"
    echo "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
    read -r _ reference _ _ _ _ reference_cpu <<< "$(stats "$work/$size.0")"
    for index in $(seq 0 $((command_count - 1))); do
      read -r runs median low high rss failed cpu <<< "$(stats "$work/$size.$index")"
      echo "| ${commands[$index]%%|*} | $runs | $median | $low | $high |" \
        "$(ratio "$median" "$reference") | $cpu | $(ratio "$cpu" "$reference_cpu") | $rss | $failed |"
    done
  done
} > "$report"
cat "$report"
echo >&2
echo "run.sh: report written to $report" >&2
