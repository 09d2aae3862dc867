#pragma once
// `--netns all`: one sample in every network namespace of the host, each
// read from inside it (its own range, sysctls and sockets). Wiring only.

#include <string>

#include "analyze/netns_samples.h"
#include "pipeline/sample.h"

namespace ephport {

// The --netns value that selects every namespace. (A namespace named "all"
// is still reachable by its path, /run/netns/all.)
inline constexpr const char* kAllNamespaces = "all";

// Moves this (single-threaded) process into the network namespace NAME (an
// `ip netns` name) or PATH, once, before sampling there. Throws InputError
// if it does not exist, RuntimeError if it cannot be entered.
void enter_namespace(const std::string& name_or_path);

// Lists the namespaces (collect/linux/netns_enum.h), enters each in turn,
// takes a sample there and comes back to the caller's own. Process owners
// are scanned once for all. A namespace gone before it could be entered is
// counted, not an error; one that cannot be entered throws RuntimeError
// (EPERM: needs CAP_SYS_ADMIN).
NetnsSamples take_netns_samples(const SampleOptions& options);

}  // namespace ephport
