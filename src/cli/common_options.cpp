#include "cli/common_options.h"

#include "util/error.h"

namespace ephport {

void add_analysis_options(CLI::App& command, CommonOptions& options) {
  command.add_option("--top", options.top, "Destinations to list, worst first (0 = all)")
      ->check(CLI::NonNegativeNumber);
  command.add_option("--range", options.range,
                     "Override the ephemeral range, FIRST-LAST (default: the host's)");
  command.add_option("--proto", options.proto, "Protocols to report")
      ->check(CLI::IsMember({"tcp", "udp", "all"}));
}

void add_common_options(CLI::App& command, CommonOptions& options) {
  add_analysis_options(command, options);
  command
      .add_option("--source", options.source,
                  "Socket source: netlink, /proc/net text, or netlink with fallback")
      ->check(CLI::IsMember({"auto", "netlink", "procfs"}));
  command.add_option("--netns", options.netns,
                     "Sample another network namespace: an `ip netns` NAME or a PATH");
  command.add_option("--proc-root", options.proc_root, "Where procfs is mounted")
      ->check(CLI::ExistingDirectory);
  command.add_flag("--no-owners", options.no_owners,
                   "Skip mapping sockets to processes (#OfPids shows -)");
}

SampleOptions CommonOptions::to_sample_options() const {
  SampleOptions sample;
  sample.collect.tcp = proto != "udp";
  sample.collect.udp = proto != "tcp";
  sample.collect.proc_root = proc_root;
  sample.collect.source = source == "netlink"  ? Source::netlink
                          : source == "procfs" ? Source::procfs
                                               : Source::automatic;
  sample.netns = netns;
  sample.owners = !no_owners;
  sample.top = static_cast<size_t>(top);
  if (!range.empty()) {
    sample.range = parse_port_range(range, "--range");
  }
  return sample;
}

void CommonOptions::enter_namespace() const {
  if (!netns.empty()) {
    enter_netns(netns);
  }
}

}  // namespace ephport
