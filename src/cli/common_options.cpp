#include "cli/common_options.h"

#include "pipeline/netns_all.h"
#include "util/error.h"

namespace ephport {

void add_analysis_options(CLI::App& command, CommonOptions& options) {
  command.add_option("--top", options.top, "Destinations to list, worst first (0 = all)")
      ->capture_default_str()
      ->check(CLI::Range(0, 1000000));
  command.add_option("--range", options.range,
                     "Override the ephemeral range, FIRST-LAST (default: the host's)");
  command.add_option("--proto", options.proto, "Protocols to report")
      ->check(CLI::IsMember({"tcp", "udp", "all"}));
}

void add_common_options(CLI::App& command, CommonOptions& options, bool netns_all) {
  add_analysis_options(command, options);
  command
      .add_option(
          "--source", options.source,
          "Socket source: netlink, /proc/net text, or auto (netlink, falling back to /proc/net; "
          "/proc/net when --proc-root is given)")
      ->check(CLI::IsMember({"auto", "netlink", "procfs"}));
  command.add_option("--netns", options.netns,
                     netns_all ? "Sample another network namespace: an `ip netns` NAME or a PATH; "
                                 "`all`: every namespace of the host, rows labelled with theirs"
                               : "Sample another network namespace: an `ip netns` NAME or a PATH "
                                 "(one namespace: run one per namespace)");
  command.add_option("--proc-root", options.proc_root, "Where procfs is mounted")
      ->check(CLI::ExistingDirectory);
  command
      .add_option("--bind-state", options.bind_state,
                  "Which ports connect() skips because bind() owns them: read by BPF (exact; "
                  "needs CAP_BPF+CAP_PERFMON), estimated from sock_diag, or auto")
      ->check(CLI::IsMember({"auto", "bpf", "estimate"}));
  command.add_flag("--no-owners", options.no_owners,
                   "Skip mapping sockets to processes (#OfPids shows -)");
  command
      .add_option("--owner-source", options.owner_source,
                  "How sockets are mapped to processes: a BPF walk of every process's files "
                  "(needs CAP_BPF+CAP_PERFMON), /proc/PID/fd, or auto (BPF, else /proc)")
      ->check(CLI::IsMember({"auto", "bpf", "procfs"}));
}

SampleOptions CommonOptions::to_sample_options() const {
  SampleOptions sample;
  sample.collect.tcp = proto != "udp";
  sample.collect.udp = proto != "tcp";
  sample.collect.owners = !no_owners;
  LinuxOptions& host = sample.linux_options;
  host.proc_root = proc_root;
  host.source = source == "netlink"  ? Source::netlink
                : source == "procfs" ? Source::procfs
                                     : Source::automatic;
  // A --proc-root tree (a fixture, a copy from another host) is the whole
  // truth: its net/ files, not this host's netlink, hold the sockets.
  if (host.source == Source::automatic && proc_root != "/proc") {
    host.source = Source::procfs;
  }
  host.bind_state = bind_state == "bpf"        ? LinuxOptions::BindState::bpf
                    : bind_state == "estimate" ? LinuxOptions::BindState::estimate
                                               : LinuxOptions::BindState::automatic;
  if (proc_root != "/proc") {
    host.bind_state = LinuxOptions::BindState::estimate;  // BPF reads this host, not the tree
  }
  sample.netns = netns;
  host.owner_source = owner_source == "bpf"      ? OwnerSource::Mode::bpf
                      : owner_source == "procfs" ? OwnerSource::Mode::procfs
                                                 : OwnerSource::Mode::automatic;
  if (proc_root != "/proc" && host.owner_source == OwnerSource::Mode::bpf) {
    throw InputError("--owner-source bpf reads this host; it cannot be used with --proc-root");
  }
  sample.top = static_cast<size_t>(top);
  if (!range.empty()) {
    sample.range = parse_port_range(range, "--range");
  }
  return sample;
}

void CommonOptions::enter_namespace() const {
  if (!netns.empty() && !all_namespaces()) {
    ephport::enter_namespace(netns);
  }
}

bool CommonOptions::all_namespaces() const {
  return netns == kAllNamespaces;
}

void add_all_addresses_flag(CLI::App& command, bool& all_addresses) {
  command.add_flag("--all-addresses", all_addresses,
                   "Also list, in the table and CSV, the addresses configured on the interfaces "
                   "that have no socket of their own (JSON always lists them)");
}

void add_format_option(CLI::App& command, Format& format, std::initializer_list<Format> choices,
                       const std::string& description) {
  std::vector<std::string> names;
  for (Format choice : choices) {
    names.emplace_back(format_name(choice));
  }
  // A string option checked against the names, as before the enum: the
  // same help ("TEXT:{table,csv,json}") and the same error text.
  command
      .add_option_function<std::string>(
          "--format", [&format](const std::string& name) { format = *parse_format(name); },
          description)
      ->check(CLI::IsMember(names));
}

}  // namespace ephport
