#!/bin/sh
# Runs a check of deploy/ with the tool that consumes the file, and fails
# loudly, naming the Debian package, when the tool is missing: a deploy test
# never skips.
#   with_tool.sh PACKAGE [--stdin FILE] [--silent] COMMAND [ARGS...]
# --stdin FILE  feeds FILE to the command
# --silent      also fails when the command prints anything: systemd-analyze
#               verify exits 0 after "Unknown key ..., ignoring" warnings
set -eu
package=$1
shift
stdin=/dev/null
silent=no
while :; do
  case "$1" in
    --stdin) stdin=$2; shift 2 ;;
    --silent) silent=yes; shift ;;
    *) break ;;
  esac
done
if ! command -v "$1" >/dev/null 2>&1; then
  echo "FAIL: '$1' not found; install the Debian package '$package' (scripts/install-deps.sh)" >&2
  exit 1
fi
if [ "$silent" = no ]; then
  exec "$@" <"$stdin"
fi
output=$("$@" <"$stdin" 2>&1) || { echo "$output" >&2; exit 1; }
if [ -n "$output" ]; then
  echo "$output" >&2
  echo "FAIL: $1 printed warnings (above)" >&2
  exit 1
fi
