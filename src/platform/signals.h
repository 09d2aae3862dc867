#pragma once
// Stopping a long-running command (log, serve) cleanly on SIGINT or SIGTERM:
// the handler only records the request; the loop finishes its current sample,
// sees stop_requested() and returns, so the program exits 0.

#include <chrono>

namespace ephport {

// Installs handlers for SIGINT and SIGTERM that record a stop request. The
// handlers do not restart interrupted system calls (no SA_RESTART). Call once,
// before the loop starts; calling again does nothing. Throws RuntimeError if
// the handlers cannot be installed.
void install_stop_handlers();

// True once SIGINT or SIGTERM has arrived (after install_stop_handlers()).
bool stop_requested();

// Sleeps until `deadline`, returning early as soon as a stop is requested. A
// signal that arrives just before the sleep starts is not lost: the call then
// returns at once. Without install_stop_handlers() it simply sleeps.
void sleep_until_stop_or(std::chrono::steady_clock::time_point deadline);

}  // namespace ephport
