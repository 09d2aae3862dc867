#!/bin/bash
# The soak run of docs/reliability.md: does ephport keep its memory and file
# descriptors flat over a long run with a changing population? As root,
# after the README's install and build:
#
#   bench/soak.sh [SECONDS] [SCRAPES]      (default: 600 s, 2000 scrapes)
#
# In a network namespace of its own it opens a population whose TIME_WAIT
# sockets expire and are replaced every second (bench/population, 2000
# sockets, 1000 of them TIME_WAIT), then runs for SECONDS, side by side:
#   - `ephport log --interval 0.1 --format jsonl` into a file, and
#   - `ephport serve`, scraped SCRAPES times (/metrics and /api/v1/snapshot
#     in turn, spread evenly over the run) with curl.
# Every 5 s it records each process's RSS (VmRSS) and open descriptors.
# It prints a markdown report: first, peak and last RSS and descriptors after
# a warm-up of a tenth of the run, the growth from the warm-up to the end,
# failed scrapes, the log's records and how many did not parse as JSON.
# It exits 1 if a scrape failed, the log has a torn line, a process died, or
# the descriptors grew by more than 2 after the warm-up.
#
# Environment: EPHPORT_BUILD (default <repo>/build), PORT (default 19299).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
repo=$(dirname "$here")
build=${EPHPORT_BUILD:-$repo/build}
duration=${1:-600}
scrapes=${2:-2000}
port=${PORT:-19299}
ephport=$build/ephport
population=$build/bench/population

for program in "$ephport" "$population"; do
  [ -x "$program" ] || { echo "soak.sh: $program not built (README's first command)" >&2; exit 1; }
done
command -v curl >/dev/null || { echo "soak.sh: curl not found (Debian package curl)" >&2; exit 1; }
[ "$(id -u)" = 0 ] || { echo "soak.sh: needs root (a network namespace of its own)" >&2; exit 1; }

work=$(mktemp -d)
namespace=ephport-soak-$$
pids=()
cleanup() {
  for pid in "${pids[@]}"; do
    kill -TERM "$pid" 2>/dev/null || true
  done
  for pid in "${pids[@]}"; do
    wait "$pid" 2>/dev/null || true
  done
  ip netns delete "$namespace" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

ip netns add "$namespace"
ip -n "$namespace" link set lo up
in_ns() { ip netns exec "$namespace" "$@"; }

coproc POPULATION {
  exec ip netns exec "$namespace" "$population" --sockets 2000 --time-wait 1000 \
    --max-hold $((duration + 300))
}
pids+=("$POPULATION_PID")
reply=""
read -r -t 300 reply held <&"${POPULATION[0]}" || true
[ "$reply" = ready ] || { echo "soak.sh: the population did not get ready" >&2; exit 1; }
echo "== population ready ($held sockets); soaking for $duration s" >&2

# Started without the in_ns function, so that $! is ephport itself (ip
# netns exec execs it), not a subshell.
ip netns exec "$namespace" "$ephport" log --interval 0.1 --format jsonl --output "$work/log.jsonl" \
  2>"$work/log.err" >/dev/null &
log_pid=$!
pids+=("$log_pid")
ip netns exec "$namespace" "$ephport" serve --web.listen-address "127.0.0.1:$port" 2>"$work/serve.err" &
serve_pid=$!
pids+=("$serve_pid")
for _ in $(seq 50); do
  in_ns curl -sf "http://127.0.0.1:$port/healthz" >/dev/null 2>&1 && break
  sleep 0.1
done

# One "seconds rss_kib fds" line per process every 5 s.
sample() {
  local name=$1 pid=$2 at=$3 rss fds
  rss=$(awk '/^VmRSS:/ { print $2 }' "/proc/$pid/status" 2>/dev/null) || return 1
  fds=$(find "/proc/$pid/fd" -mindepth 1 -maxdepth 1 2>/dev/null | wc -l)
  echo "$at $rss $fds" >> "$work/$name.samples"
}

failed_scrapes=0
start=$(date +%s)
next_sample=0
gap=$(awk -v d="$duration" -v n="$scrapes" 'BEGIN { printf "%.3f", d / n }')
for ((i = 0; i < scrapes; i++)); do
  now=$(($(date +%s) - start))
  if [ "$now" -ge "$next_sample" ]; then
    sample log "$log_pid" "$now" || break
    sample serve "$serve_pid" "$now" || break
    next_sample=$((now + 5))
  fi
  path=/metrics
  [ $((i % 2)) = 1 ] && path=/api/v1/snapshot
  in_ns curl -sf --max-time 10 -o /dev/null "http://127.0.0.1:$port$path" ||
    failed_scrapes=$((failed_scrapes + 1))
  # Spread the scrapes over the run, whatever each one took.
  target=$(awk -v s="$start" -v g="$gap" -v i="$i" 'BEGIN { printf "%.3f", s + g * (i + 1) }')
  wait_for=$(awk -v t="$target" -v n="$(date +%s.%N)" 'BEGIN { d = t - n; printf "%.3f", (d > 0 ? d : 0) }')
  sleep "$wait_for"
done
end=$(($(date +%s) - start))
sample log "$log_pid" "$end" || true
sample serve "$serve_pid" "$end" || true

alive=yes
kill -0 "$log_pid" 2>/dev/null && kill -0 "$serve_pid" 2>/dev/null || alive=no
kill -TERM "$log_pid" "$serve_pid" 2>/dev/null || true
wait "$log_pid" 2>/dev/null || true
wait "$serve_pid" 2>/dev/null || true

records=$(wc -l < "$work/log.jsonl")
torn=0
while IFS= read -r line; do
  case "$line" in
    '{'*'}') ;;
    *) torn=$((torn + 1)) ;;
  esac
done < "$work/log.jsonl"

warmup=$((end / 10))
# "first peak last growth" of a column (2 rss, 3 fds) from the warm-up on.
summary() {
  awk -v w="$warmup" -v c="$2" '$1 >= w { if (!n++) first = $c; if ($c > peak) peak = $c; last = $c }
    END { printf "%d %d %d %d", first, peak, last, last - first }' "$work/$1.samples"
}
status=0
report() {
  echo "# ephport soak, $(date -u +%Y-%m-%dT%H:%MZ), $(uname -r), $(nproc) cores"
  echo
  echo "\`bench/soak.sh $duration $scrapes\`: $end s, population of $held sockets (1000 TIME_WAIT"
  echo "replaced as they expire), \`log --interval 0.1 --format jsonl\` and \`serve\` scraped"
  echo "$scrapes times; figures from the warm-up ($warmup s) on."
  echo
  echo "| process | RSS first KiB | peak | last | growth | fds first | peak | last | growth |"
  echo "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
  for name in log serve; do
    read -r r1 rp rl rg <<<"$(summary "$name" 2)"
    read -r f1 fp fl fg <<<"$(summary "$name" 3)"
    echo "| $name | $r1 | $rp | $rl | $rg | $f1 | $fp | $fl | $fg |"
  done
  echo
  echo "Failed scrapes: $failed_scrapes of $scrapes. Log records: $records, torn: $torn."
  echo "Both processes alive at the end: $alive."
}
report | tee "$work/report.md"
[ "$failed_scrapes" = 0 ] && [ "$torn" = 0 ] && [ "$alive" = yes ] || status=1
# A collection in progress holds a netlink or BPF descriptor or two: more
# than that, kept to the end, is a leak.
for name in log serve; do
  read -r _ _ _ fd_growth <<<"$(summary "$name" 3)"
  [ "$fd_growth" -le 2 ] || status=1
done
grep -v '^ephport: serving ' "$work/serve.err" > "$work/serve.err.other" || true
if [ -s "$work/log.err" ] || [ -s "$work/serve.err.other" ]; then
  echo >&2
  echo "stderr of log and serve (first lines):" >&2
  head -5 "$work/log.err" "$work/serve.err.other" >&2
fi
exit "$status"
