// `--netns all` enumeration: the "net:[INODE]" links, who lives in a
// namespace from the cgroup lines of each runtime, and the namespaces of the
// fixture tree tests/fixtures/netns (see its README).
//
// The cgroup lines below follow the layouts the runtimes write to
// /proc/PID/cgroup (cgroup v2 "0::PATH"; v1 "ID:CONTROLLERS:PATH" lines):
// docker and podman with the systemd and cgroupfs drivers, containerd and
// CRI-O under the kubelet's two drivers, LXC, systemd services. Ids are made up.

#include "collect/linux/netns_enum.h"

#include <gtest/gtest.h>

#include <string>

#include "collect_fixtures.h"
#include "util/error.h"

namespace ephport {
namespace {

const std::string kId64 = "3f4e5a6b7c8d9e0f1a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d5e6f7081";

CgroupIdentity identity(std::string runtime, std::string container, std::string pod = "",
                        std::string unit = "") {
  return {std::move(runtime), std::move(container), std::move(pod), std::move(unit)};
}

TEST(NetnsLink, ParsesTheInode) {
  EXPECT_EQ(parse_netns_link("net:[4026531840]"), 4026531840u);
  EXPECT_EQ(parse_netns_link("net:[1]"), 1u);
}

TEST(NetnsLink, RejectsOtherLinks) {
  for (const char* link : {"", "net:[]", "net:[12", "net:[12]x", "net:[-1]", "net:[1a]",
                           "mnt:[4026531841]", "socket:[16944]", "/run/netns/blue"}) {
    EXPECT_EQ(parse_netns_link(link), std::nullopt) << link;
  }
}

TEST(CgroupIdentity, DockerSystemdDriver) {
  EXPECT_EQ(parse_cgroup_identity("0::/system.slice/docker-" + kId64 + ".scope\n"),
            identity("docker", kId64));
}

TEST(CgroupIdentity, DockerCgroupfsDriverOnCgroupV1) {
  const std::string file = "12:pids:/docker/" + kId64 + "\n11:memory:/docker/" + kId64 +
                           "\n1:name=systemd:/docker/" + kId64 + "\n0::/\n";
  EXPECT_EQ(parse_cgroup_identity(file), identity("docker", kId64));
}

TEST(CgroupIdentity, ContainerdUnderKubeletSystemdDriver) {
  EXPECT_EQ(
      parse_cgroup_identity("0::/kubepods.slice/kubepods-besteffort.slice/"
                            "kubepods-besteffort-pod0f3c2a1e_5b7d_4c9e_8a6f_2d1e0c9b8a7f.slice/"
                            "cri-containerd-" +
                            kId64 + ".scope\n"),
      identity("containerd", kId64, "0f3c2a1e-5b7d-4c9e-8a6f-2d1e0c9b8a7f"));
}

TEST(CgroupIdentity, GuaranteedPodHasNoQosSlice) {
  EXPECT_EQ(parse_cgroup_identity("0::/kubepods.slice/"
                                  "kubepods-pod0f3c2a1e_5b7d_4c9e_8a6f_2d1e0c9b8a7f.slice/"
                                  "cri-containerd-" +
                                  kId64 + ".scope"),
            identity("containerd", kId64, "0f3c2a1e-5b7d-4c9e-8a6f-2d1e0c9b8a7f"));
}

TEST(CgroupIdentity, KubeletCgroupfsDriver) {
  EXPECT_EQ(parse_cgroup_identity(
                "0::/kubepods/burstable/pod7e6d5c4b-3a29-4180-9f8e-7d6c5b4a3928/" + kId64 + "\n"),
            identity("", kId64, "7e6d5c4b-3a29-4180-9f8e-7d6c5b4a3928"));
  // Guaranteed pods sit right under kubepods.
  EXPECT_EQ(parse_cgroup_identity("0::/kubepods/pod7e6d5c4b-3a29-4180-9f8e-7d6c5b4a3928/" + kId64),
            identity("", kId64, "7e6d5c4b-3a29-4180-9f8e-7d6c5b4a3928"));
}

TEST(CgroupIdentity, CriO) {
  EXPECT_EQ(parse_cgroup_identity(
                "0::/kubepods.slice/kubepods-burstable.slice/"
                "kubepods-burstable-pod11223344_5566_7788_99aa_bbccddeeff00.slice/crio-" +
                kId64 + ".scope\n"),
            identity("cri-o", kId64, "11223344-5566-7788-99aa-bbccddeeff00"));
}

TEST(CgroupIdentity, Podman) {
  // Rootful (machine.slice), rootless (the user's manager), cgroupfs driver.
  EXPECT_EQ(parse_cgroup_identity("0::/machine.slice/libpod-" + kId64 + ".scope\n"),
            identity("podman", kId64));
  EXPECT_EQ(parse_cgroup_identity("0::/user.slice/user-1000.slice/user@1000.service/user.slice/"
                                  "libpod-" +
                                  kId64 + ".scope\n"),
            identity("podman", kId64, "", "user@1000.service"));
  EXPECT_EQ(parse_cgroup_identity("0::/libpod_parent/libpod-" + kId64 + "\n"),
            identity("podman", kId64));
}

TEST(CgroupIdentity, ConmonMonitorsAreNotContainers) {
  EXPECT_EQ(parse_cgroup_identity("0::/machine.slice/libpod-conmon-" + kId64 + ".scope\n"),
            identity("", ""));
  EXPECT_EQ(parse_cgroup_identity("0::/system.slice/crio-conmon-" + kId64 + ".scope\n"),
            identity("", ""));
}

TEST(CgroupIdentity, Lxc) {
  EXPECT_EQ(parse_cgroup_identity("0::/lxc.payload.web01/init.scope\n"), identity("lxc", "web01"));
  EXPECT_EQ(parse_cgroup_identity("4:memory:/lxc/web01\n"), identity("lxc", "web01"));
}

TEST(CgroupIdentity, SystemdServiceIsTheInnermost) {
  EXPECT_EQ(parse_cgroup_identity("0::/system.slice/nginx.service\n"),
            identity("", "", "", "nginx.service"));
  EXPECT_EQ(parse_cgroup_identity("0::/user.slice/user-1000.slice/user@1000.service/app.slice/"
                                  "app-foo.service\n"),
            identity("", "", "", "app-foo.service"));
}

TEST(CgroupIdentity, NothingToRecognise) {
  for (const char* file : {"", "0::/\n", "0::/init.scope\n",
                           "0::/user.slice/user-0.slice/session-3.scope\n", "garbage\n",
                           // too short to be an id, not hex
                           "0::/system.slice/docker-abc.scope\n",
                           "0::/system.slice/docker-zzzzzzzzzzzzzzzz.scope\n"}) {
    EXPECT_EQ(parse_cgroup_identity(file), identity("", "")) << file;
  }
}

std::string fixture(const std::string& name) {
  return testing::fixture_path("netns/" + name);
}

const NetnsIdentity* find_inode(const NetnsEnumeration& found, uint64_t inode) {
  for (const NetnsIdentity& identity : found.namespaces) {
    if (identity.inode == inode) {
      return &identity;
    }
  }
  return nullptr;
}

TEST(NetnsEnumeration, FindsEveryNamespaceOnce) {
  const NetnsEnumeration found = enumerate_netns(fixture("proc"), fixture("run-netns"));
  std::vector<uint64_t> inodes;
  for (const NetnsIdentity& identity : found.namespaces) {
    inodes.push_back(identity.inode);
  }
  // By inode; 1900 (gone) and run-netns/stale (no namespace) add nothing.
  EXPECT_EQ(inodes,
            (std::vector<uint64_t>{4026531840, 4026532301, 4026532350, 4026532400, 4026532500,
                                   4026532600, 4026532700, 4026532800, 4026532900, 4026533000}));
  EXPECT_EQ(found.processes_unreadable, 0u);
}

// What the enumeration says of one namespace; container ids by their first
// 12 digits.
struct Expected {
  uint64_t inode;
  uint32_t pid;
  const char* runtime;
  const char* container;
  const char* pod;
  const char* unit;
};

TEST(NetnsEnumeration, WhoLivesInEachNamespace) {
  const std::vector<Expected> expected = {
      // PID 1, a kernel thread, ssh.service and a podman conmon disagree:
      // the host namespace has no identity.
      {4026531840, 1, "", "", "", ""},
      // Docker: a container and a `docker exec` in it (1200, 1250).
      {4026532301, 1200, "docker", "3f4e5a6b7c8d", "", ""},
      {4026532350, 1300, "docker", "9b8a7c6d5e4f", "", ""},
      // A pod's pause and app containers share the pod, not a container id.
      {4026532400, 1400, "", "", "0f3c2a1e-5b7d-4c9e-8a6f-2d1e0c9b8a7f", ""},
      {4026532500, 1500, "", "4d5e6f708192", "7e6d5c4b-3a29-4180-9f8e-7d6c5b4a3928", ""},
      {4026532600, 1600, "podman", "5e6f708192a3", "", "user@1000.service"},
      {4026532700, 1700, "", "", "", "private-net-demo.service"},
      {4026533000, 2000, "cri-o", "6f708192a3b4", "11223344-5566-7788-99aa-bbccddeeff00", ""},
  };
  const NetnsEnumeration found = enumerate_netns(fixture("proc"), fixture("run-netns"));
  for (const Expected& want : expected) {
    SCOPED_TRACE(want.inode);
    const NetnsIdentity* identity = find_inode(found, want.inode);
    ASSERT_NE(identity, nullptr);
    EXPECT_EQ(identity->name, "");
    EXPECT_EQ(identity->pid, want.pid);  // the lowest
    EXPECT_EQ(identity->path, fixture("proc") + "/" + std::to_string(want.pid) + "/ns/net");
    EXPECT_EQ(identity->runtime, want.runtime);
    EXPECT_EQ(identity->container.substr(0, 12), want.container);
    EXPECT_EQ(identity->container.size(), *want.container == 0 ? 0u : 64u);
    EXPECT_EQ(identity->pod, want.pod);
    EXPECT_EQ(identity->unit, want.unit);
  }
}

TEST(NetnsEnumeration, NamedNamespacesAreOpenedByName) {
  const NetnsEnumeration found = enumerate_netns(fixture("proc"), fixture("run-netns"));
  // `blue` also has a process: one entry, named, opened by its name.
  const NetnsIdentity* blue = find_inode(found, 4026532800);
  ASSERT_NE(blue, nullptr);
  EXPECT_EQ(blue->name, "blue");
  EXPECT_EQ(blue->path, fixture("run-netns") + "/blue");
  EXPECT_EQ(blue->pid, 1800u);
  // `green` has none.
  const NetnsIdentity* green = find_inode(found, 4026532900);
  ASSERT_NE(green, nullptr);
  EXPECT_EQ(green->name, "green");
  EXPECT_EQ(green->path, fixture("run-netns") + "/green");
  EXPECT_EQ(green->pid, 0u);
}

TEST(NetnsEnumeration, NoRunNetnsMeansNoNames) {
  const NetnsEnumeration found = enumerate_netns(fixture("proc"), fixture("no-such-dir"));
  EXPECT_EQ(found.namespaces.size(), 9u);  // green has no process
  EXPECT_EQ(find_inode(found, 4026532900), nullptr);
  const NetnsIdentity* blue = find_inode(found, 4026532800);
  ASSERT_NE(blue, nullptr);
  EXPECT_EQ(blue->name, "");
  EXPECT_EQ(blue->path, fixture("proc") + "/1800/ns/net");
}

TEST(NetnsEnumeration, UnreadableProcRootIsARuntimeError) {
  EXPECT_EQ(testing::error_text<RuntimeError>(
                [] { enumerate_netns("/no/such/proc", "/no/such/run-netns"); }),
            "cannot read /no/such/proc: No such file or directory");
}

TEST(NetnsEnumeration, ThisHostListsOurOwnNamespace) {
  // The live /proc: readlink of the kernel's magic links.
  const NetnsEnumeration found = enumerate_netns("/proc", "/run/netns");
  char own[64] = {};
  ASSERT_GT(::readlink("/proc/self/ns/net", own, sizeof own - 1), 0);
  const std::optional<uint64_t> inode = parse_netns_link(own);
  ASSERT_TRUE(inode);
  EXPECT_NE(find_inode(found, *inode), nullptr) << own;
}

}  // namespace
}  // namespace ephport
