#pragma once
// Stopping a long-running command (log, serve) cleanly on SIGINT or SIGTERM:
// the handler only records the request; the loop finishes its current sample,
// sees stop_requested() and returns, so the program exits 0. SIGHUP, the
// signal logrotate's postrotate sends, asks for a reopen (log) or a re-read
// of the web config (serve) instead of ending the process. SIGPIPE is caught
// by a handler that does nothing, so a write to a closed pipe (`log | head`)
// fails with EPIPE, which the caller handles; a handler, unlike SIG_IGN, is
// reset by exec, so child programs still get the default.

#include <chrono>

namespace ephport {

// Installs handlers for SIGINT and SIGTERM that record a stop request, for
// SIGHUP that records a reopen request, and for SIGPIPE. The handlers do not
// restart interrupted system calls (no SA_RESTART). Call once,
// before the loop starts; calling again does nothing. Throws RuntimeError if
// the handlers cannot be installed.
void install_stop_handlers();

// True once SIGINT or SIGTERM has arrived (after install_stop_handlers()).
bool stop_requested();

// True once per SIGHUP (or burst of them) since the last call: the call
// takes the request.
bool take_reopen_request();

// Sleeps until `deadline`, returning early as soon as a stop is requested. A
// signal that arrives just before the sleep starts is not lost: the call then
// returns at once. Without install_stop_handlers() it simply sleeps.
void sleep_until_stop_or(std::chrono::steady_clock::time_point deadline);

}  // namespace ephport
