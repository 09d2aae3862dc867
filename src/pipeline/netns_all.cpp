#include "pipeline/netns_all.h"

#include <optional>

#include "collect/linux/netns.h"
#include "collect/linux/netns_enum.h"
#include "collect/linux/proc_owners.h"
#include "collect/linux/sysctl.h"
#include "snapshot/owner_table.h"

namespace ephport {

void enter_namespace(const std::string& name_or_path) {
  enter_netns(name_or_path);
}

NetnsSamples take_netns_samples(const SampleOptions& options) {
  const std::string& proc_root = options.linux_options.proc_root;
  NetnsSamples samples;
  const HostFacts host = read_host_facts(proc_root);
  samples.computer = host.computer;
  samples.time = host.time;

  NetnsEnumeration found = enumerate_netns(proc_root);
  samples.processes_unreadable = found.processes_unreadable;
  SampleOptions each = options;
  std::optional<OwnerTable> owners;
  if (options.collect.owners) {
    owners = scan_proc_owners(proc_root);
    each.linux_options.scanned_owners = &*owners;
  }
  // One session for all: what it learns (a BPF failure, process
  // identities) holds for the whole host.
  SampleSession session(each);

  NetnsHome home;
  for (NetnsIdentity& identity : found.namespaces) {
    const std::string label = identity.name.empty() ? identity.path : identity.name;
    if (identity.inode != home.inode()) {
      UniqueFd netns = open_netns_if_present(identity.path, identity.inode);
      if (!netns.valid()) {
        ++samples.vanished;
        continue;
      }
      home.enter(netns.get(), label, identity.path);
    }
    Analysis analysis = session.take(nullptr, std::nullopt, &label);
    home.go_back();
    analysis.host.netns_identity = std::move(identity);
    samples.namespaces.push_back(std::move(analysis));
  }
  return samples;
}

}  // namespace ephport
