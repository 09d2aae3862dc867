#pragma once
// Options shared by the commands that sample a host (snapshot, log).

#include <CLI/CLI.hpp>
#include <initializer_list>
#include <string>

#include "output/format.h"
#include "pipeline/sample.h"

namespace ephport {

struct CommonOptions {
  std::string proto = "all";
  std::string source = "auto";
  std::string netns;
  std::string proc_root = "/proc";
  std::string range;
  std::string bind_state = "auto";
  std::string owner_source = "auto";
  bool no_owners = false;
  int top = 10;

  // Turns the parsed strings into SampleOptions; throws InputError.
  SampleOptions to_sample_options() const;
  // Enters --netns if given (once, before sampling); not with --netns all.
  void enter_namespace() const;
  // --netns all: every namespace, one after the other (pipeline/netns_all.h).
  bool all_namespaces() const;
};

// `netns_all`: whether the command accepts `--netns all` (check and serve
// watch one namespace: their help does not offer it).
void add_common_options(CLI::App& command, CommonOptions& options, bool netns_all = true);
// --top and --range only: what analyze understands.
void add_analysis_options(CLI::App& command, CommonOptions& options);
// --all-addresses: table and CSV rows also for the configured addresses
// with no socket of their own (JSON always has them).
void add_all_addresses_flag(CLI::App& command, bool& all_addresses);
// --format, accepting the names of `choices` (the help lists them in order).
void add_format_option(CLI::App& command, Format& format, std::initializer_list<Format> choices,
                       const std::string& description);

}  // namespace ephport
