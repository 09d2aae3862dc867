#!/bin/sh
# deploy/logrotate/ephport with the real logrotate against a running
# `ephport log` (as root: it samples this host). Rotates twice (-f), with a
# state file of its own (-s), then checks that every sample printed on
# stdout is in the rotated files and the live one, in order, whole and with
# a CSV header at the top of each file; and that logging went on into the
# new file after each rotation. Every wait is bounded.
#   logrotate_live.sh EPHPORT DEPLOY_CONFIG
set -eu
command -v logrotate >/dev/null 2>&1 || { echo "FAIL: 'logrotate' not found; install the Debian package 'logrotate' (scripts/install-deps.sh)" >&2; exit 1; }
ephport=$1
config=$2
dir=$(mktemp -d)
pid=""
trap '[ -n "$pid" ] && kill "$pid" 2>/dev/null; [ -n "${KEEP:-}" ] || rm -rf "$dir"' EXIT
log=$dir/EphemeralPortStats.log

"$ephport" log --interval 0.1 --count 100000 --format csv --no-evidence --all-addresses \
  --output "$log" >"$dir/stdout" 2>"$dir/stderr" &
pid=$!

# Lines in FILE (0 if missing).
lines() { [ -f "$1" ] && wc -l <"$1" || echo 0; }
# Waits (at most 30 s) until FILE has more than N lines.
wait_lines() {
  tries=0
  while [ "$(lines "$1")" -le "$2" ]; do
    tries=$((tries + 1))
    [ "$tries" -le 300 ] || { echo "FAIL: no new sample in $1 (still $2 lines or fewer)" >&2; cat "$dir/stderr" >&2; exit 1; }
    sleep 0.1
  done
}

# The shipped config, pointed at this log and this process.
sed -e "s#/var/log/ephport/#$dir/#" -e "s#pkill -HUP -x ephport#kill -HUP $pid#" \
  "$config" >"$dir/logrotate.conf"
grep -q "kill -HUP $pid" "$dir/logrotate.conf" || { echo "FAIL: no postrotate to adapt" >&2; exit 1; }

wait_lines "$log" 1
logrotate -s "$dir/state" -f "$dir/logrotate.conf"
wait_lines "$log" 1
logrotate -s "$dir/state" -f "$dir/logrotate.conf"
wait_lines "$log" 1
kill -TERM "$pid"
status=0
wait "$pid" || status=$?
pid=""
[ "$status" -eq 0 ] || { echo "FAIL: ephport log exited $status" >&2; cat "$dir/stderr" >&2; exit 1; }

[ -f "$log.2.gz" ] && [ -f "$log.1" ] || { echo "FAIL: no $log.1 and $log.2.gz" >&2; ls "$dir" >&2; exit 1; }
header=$(head -n 1 "$dir/stdout")
for file in "$log.2.gz" "$log.1" "$log"; do
  zcat -f "$file" >"$dir/one"
  [ "$(head -n 1 "$dir/one")" = "$header" ] || { echo "FAIL: $file does not start with the header" >&2; exit 1; }
  [ "$(grep -cxF -- "$header" "$dir/one")" -eq 1 ] || { echo "FAIL: a header inside $file" >&2; exit 1; }
  tail -c 1 "$dir/one" | od -An -c | grep -q '\\n' || { echo "FAIL: $file ends in a torn record" >&2; exit 1; }
  tail -n +2 "$dir/one" >>"$dir/rotated"
done
tail -n +2 "$dir/stdout" >"$dir/printed"
if ! cmp -s "$dir/printed" "$dir/rotated"; then
  echo "FAIL: the files do not hold exactly the samples printed (lost, torn or doubled):" >&2
  diff "$dir/printed" "$dir/rotated" | head -20 >&2
  exit 1
fi
echo "ok: $(wc -l <"$dir/printed") rows in 3 files, none lost or torn; stderr: $(cat "$dir/stderr")"
