// process_info: the parsers on files captured from /proc (tests/fixtures/
// proc_pid, see its README), the reads on that tree and on live processes
// (this test's own, children it starts), and ProcessInfoCache.

#include "collect/linux/process_info.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <pwd.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include "collect_fixtures.h"
#include "temp_dir.h"
#include "util/error.h"
#include "util/fd.h"

namespace ephport {
namespace {

namespace fs = std::filesystem;

constexpr uint32_t kSleeper = 27091;  // nobody's `sleep 1000 2000s`, 7 fds
constexpr uint32_t kHostile = 27092;  // uid 4242 named "x) (y\nz", long UTF-8 cmdline
constexpr uint32_t kKthreadd = 2;
constexpr const char* kContainerId =
    "3f4e5d6c7b8a99887766554433221100ffeeddccbbaa00998877665544332211";

std::string fixture_root() {
  return testing::fixture_path("proc_pid");
}

std::string fixture_file(uint32_t pid, const std::string& name) {
  return testing::read_file(fixture_root() + "/" + std::to_string(pid) + "/" + name);
}

std::string cgroup_fixture(const std::string& name) {
  return testing::read_file(fixture_root() + "/cgroup/" + name);
}

// What the host calls `uid`: the expectation depends on its passwd.
std::string host_user(uint32_t uid) {
  const passwd* entry = ::getpwuid(uid);
  return entry != nullptr ? entry->pw_name : std::to_string(uid);
}

bool mentions(const std::vector<std::string>& notes, const std::string& text) {
  return std::find(notes.begin(), notes.end(), text) != notes.end();
}

// ---- stat ----

TEST(ProcessInfoParse, StatOfTheCapturedSleep) {
  std::optional<ProcessStat> stat = parse_stat(fixture_file(kSleeper, "stat"));
  ASSERT_TRUE(stat);
  EXPECT_EQ(stat->pid, kSleeper);
  EXPECT_EQ(stat->name, "sleep");
  EXPECT_EQ(stat->state, 'S');
  EXPECT_EQ(stat->ppid, 27090u);
  EXPECT_EQ(stat->flags, 4194560u);  // PF_RANDOMIZE | PF_SUPERPRIV
  EXPECT_EQ(stat->start_time, 956844u);
}

TEST(ProcessInfoParse, StatNameRunsToTheLastParenthesis) {
  // comm "x) (y\nz": a naive parse would stop at the first ')'.
  const std::string stat_file = fixture_file(kHostile, "stat");
  std::optional<ProcessStat> stat = parse_stat(stat_file);
  ASSERT_TRUE(stat);
  EXPECT_EQ(stat->name, "x) (y\nz");
  std::string comm = fixture_file(kHostile, "comm");
  EXPECT_EQ(stat->name + "\n", comm);  // the same bytes as /proc/PID/comm
  EXPECT_EQ(stat->state, 'S');
  EXPECT_EQ(stat->ppid, 27090u);
  EXPECT_EQ(stat->start_time, 956844u);

  // A name that looks like fields, and one ending in ')'.
  stat = parse_stat("42 (a) S 1 2 3 (b) R 7 1 1 0 -1 64 0 0 0 0 0 0 0 0 20 0 1 0 99 0 0");
  ASSERT_TRUE(stat);
  EXPECT_EQ(stat->name, "a) S 1 2 3 (b");
  EXPECT_EQ(stat->state, 'R');
  EXPECT_EQ(stat->ppid, 7u);
  EXPECT_EQ(stat->flags, 64u);
  EXPECT_EQ(stat->start_time, 99u);
  stat = parse_stat("43 ()) S 1 1 1 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 5 0 0\n");
  ASSERT_TRUE(stat);
  EXPECT_EQ(stat->name, ")");
  EXPECT_EQ(stat->start_time, 5u);
}

TEST(ProcessInfoParse, StatOfAKernelThread) {
  std::optional<ProcessStat> stat = parse_stat(fixture_file(kKthreadd, "stat"));
  ASSERT_TRUE(stat);
  EXPECT_EQ(stat->name, "kthreadd");
  EXPECT_EQ(stat->ppid, 0u);
  EXPECT_NE(stat->flags & 0x00200000u, 0u);  // PF_KTHREAD
  EXPECT_EQ(stat->start_time, 21u);
}

TEST(ProcessInfoParse, StatRejectsWhatIsNoStatLine) {
  for (const char* text :
       {"", "42", "42 (x", "42 x) S 1", "(x) S 1 1 1 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 5",
        "42 (x) S 1 1 1 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0",  // cut before start_time
        "42 (x) SS 1 1 1 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 5",
        "42 (x) S 1 1 1 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 -5", "x (y) S 1"}) {
    EXPECT_FALSE(parse_stat(text)) << text;
  }
}

// ---- status ----

TEST(ProcessInfoParse, StatusFields) {
  const std::string sleeper = fixture_file(kSleeper, "status");
  EXPECT_EQ(parse_status_uid(sleeper), 65534u);
  EXPECT_EQ(parse_status_threads(sleeper), 1u);
  EXPECT_EQ(parse_status_rss_kib(sleeper), 1756u);

  const std::string hostile = fixture_file(kHostile, "status");
  EXPECT_EQ(parse_status_uid(hostile), 4242u);
  EXPECT_EQ(parse_status_rss_kib(hostile), 8804u);

  const std::string kthread = fixture_file(kKthreadd, "status");
  EXPECT_EQ(parse_status_uid(kthread), 0u);
  EXPECT_EQ(parse_status_threads(kthread), 1u);
  EXPECT_EQ(parse_status_rss_kib(kthread), std::nullopt);  // no memory, no VmRSS line
}

TEST(ProcessInfoParse, StatusNameCannotForgeALine) {
  // The kernel escapes comm in status ("\n" as two characters): a name
  // "x\nUid: 0" stays on the Name line.
  const std::string status = "Name:\tx\\nUid:\t0\nUmask:\t0022\nUid:\t1000\t1000\t1000\t1000\n";
  EXPECT_EQ(parse_status_uid(status), 1000u);
  EXPECT_EQ(parse_status_uid("Uidx:\t5\n"), std::nullopt);
  EXPECT_EQ(parse_status_uid("Uid:\tabc\n"), std::nullopt);
  EXPECT_EQ(parse_status_uid(""), std::nullopt);
}

// ---- cgroup ----

CgroupPlacement placement(std::string cgroup, std::string unit, std::string container = "",
                          std::string runtime = "", std::string pod = "") {
  return {std::move(cgroup), std::move(unit), std::move(container), std::move(runtime),
          std::move(pod)};
}

TEST(ProcessInfoParse, CgroupOfThisHostPrefersTheDelegatedV1Path) {
  // "0::/" next to "4:memory:/process_api/<id>": the unified root says nothing.
  EXPECT_EQ(parse_cgroup(fixture_file(kSleeper, "cgroup")),
            placement("/process_api/289222aa815d8fb144f41b20063fb45b", ""));
  EXPECT_EQ(parse_cgroup(fixture_file(kKthreadd, "cgroup")), placement("/", ""));
}

TEST(ProcessInfoParse, CgroupOfSystemdUnits) {
  EXPECT_EQ(parse_cgroup(cgroup_fixture("systemd-service")),
            placement("/system.slice/nginx.service", "nginx.service"));
  EXPECT_EQ(parse_cgroup(cgroup_fixture("systemd-service-delegated")),
            placement("/system.slice/containerd.service/payload", "containerd.service"));
  EXPECT_EQ(parse_cgroup(cgroup_fixture("systemd-session")),
            placement("/user.slice/user-1000.slice/session-3.scope", "session-3.scope"));
  EXPECT_EQ(parse_cgroup(cgroup_fixture("systemd-user-app")).unit,
            "vte-spawn-4b1a0c2e-9d8f-4e7a-b6c5-d4e3f2a1b0c9.scope");  // not user@1000.service
  // v1: the pids line (the first of pids, memory, cpu), not cpuset's root.
  EXPECT_EQ(parse_cgroup(cgroup_fixture("systemd-v1")),
            placement("/system.slice/nginx.service", "nginx.service"));
  EXPECT_EQ(parse_cgroup(cgroup_fixture("systemd-hybrid")),
            placement("/system.slice/ssh.service", "ssh.service"));
}

TEST(ProcessInfoParse, CgroupOfContainers) {
  const std::string id = kContainerId;
  EXPECT_EQ(
      parse_cgroup(cgroup_fixture("docker-systemd")),
      placement("/system.slice/docker-" + id + ".scope", "docker-" + id + ".scope", id, "docker"));
  EXPECT_EQ(parse_cgroup(cgroup_fixture("docker-cgroupfs-v1")),
            placement("/docker/" + id, "", id, "docker"));
  EXPECT_EQ(parse_cgroup(cgroup_fixture("docker-cgroupns-private")), placement("/", ""));
  EXPECT_EQ(parse_cgroup(cgroup_fixture("kubepods-containerd")),
            placement("/kubepods.slice/kubepods-besteffort.slice/"
                      "kubepods-besteffort-pod0f3c2a1e_5b7d_4c9e_8a6f_2d1e0c9b8a7f.slice/"
                      "cri-containerd-" +
                          id + ".scope",
                      "cri-containerd-" + id + ".scope", id, "containerd",
                      "0f3c2a1e-5b7d-4c9e-8a6f-2d1e0c9b8a7f"));
  EXPECT_EQ(parse_cgroup(cgroup_fixture("kubepods-cgroupfs")),
            placement("/kubepods/burstable/pod7e6d5c4b-3a29-4180-9f8e-7d6c5b4a3928/" + id, "", id,
                      "", "7e6d5c4b-3a29-4180-9f8e-7d6c5b4a3928"));
  CgroupPlacement crio = parse_cgroup(cgroup_fixture("crio"));
  EXPECT_EQ(crio.container, id);
  EXPECT_EQ(crio.runtime, "cri-o");
  EXPECT_EQ(crio.pod, "11223344-5566-7788-99aa-bbccddeeff00");
  EXPECT_EQ(crio.unit, "crio-" + id + ".scope");
  for (const char* file : {"podman", "podman-rootless"}) {
    CgroupPlacement podman = parse_cgroup(cgroup_fixture(file));
    EXPECT_EQ(podman.container, id) << file;
    EXPECT_EQ(podman.runtime, "podman") << file;
    EXPECT_EQ(podman.unit, "libpod-" + id + ".scope") << file;
  }
  CgroupPlacement conmon = parse_cgroup(cgroup_fixture("podman-conmon"));
  EXPECT_EQ(conmon.container, "");  // the monitor, not the container
  EXPECT_EQ(conmon.unit, "libpod-conmon-" + id + ".scope");
}

TEST(ProcessInfoParse, CgroupOfOddFiles) {
  EXPECT_EQ(parse_cgroup(""), placement("", ""));
  EXPECT_EQ(parse_cgroup("garbage\n"), placement("", ""));
  EXPECT_EQ(parse_cgroup("0::/\n"), placement("/", ""));
  // v1 with no pids/memory/cpu line: the first other non-root path.
  EXPECT_EQ(parse_cgroup("3:cpuset:/\n2:blkio:/a/b.service\n1:name=systemd:/c\n"),
            placement("/a/b.service", "b.service"));
  // "cpuset" and "cpuacct" are not "cpu".
  EXPECT_EQ(parse_cgroup("2:cpuset:/x\n1:cpu,cpuacct:/y\n").cgroup, "/y");
  EXPECT_EQ(parse_cgroup("1:cpuset,cpuacct:/x\n").cgroup, "/x");
  // A .slice is no unit.
  EXPECT_EQ(parse_cgroup("0::/system.slice\n").unit, "");
}

// ---- limits, maps ----

TEST(ProcessInfoParse, LimitsOfTheCapturedSleep) {
  std::vector<ProcessLimit> limits = parse_limits(fixture_file(kSleeper, "limits"));
  ASSERT_EQ(limits.size(), 16u);
  EXPECT_EQ(limits[0], (ProcessLimit{"Max cpu time", "unlimited", "unlimited", "seconds"}));
  EXPECT_EQ(limits[3], (ProcessLimit{"Max stack size", "8388608", "unlimited", "bytes"}));
  EXPECT_EQ(limits[7], (ProcessLimit{"Max open files", "20000", "20000", "files"}));
  EXPECT_EQ(limits[13], (ProcessLimit{"Max nice priority", "0", "0", ""}));
  EXPECT_EQ(limits[15], (ProcessLimit{"Max realtime timeout", "unlimited", "unlimited", "us"}));
  EXPECT_TRUE(parse_limits("").empty());
  EXPECT_TRUE(parse_limits("Limit                     Soft Limit           Hard Limit\n").empty());
}

TEST(ProcessInfoParse, LibrariesOfTheCapturedSleep) {
  std::vector<std::string> libraries = parse_maps_libraries(fixture_file(kSleeper, "maps"));
  const std::string locale = "/usr/lib/locale/C.utf8/";
  EXPECT_EQ(
      libraries,
      (std::vector<std::string>{
          "/usr/bin/sleep", locale + "LC_CTYPE", locale + "LC_NUMERIC", locale + "LC_TIME",
          locale + "LC_COLLATE", locale + "LC_MONETARY", locale + "LC_MESSAGES/SYS_LC_MESSAGES",
          locale + "LC_PAPER", locale + "LC_NAME", "/usr/lib/x86_64-linux-gnu/libc.so.6",
          locale + "LC_ADDRESS", locale + "LC_TELEPHONE", locale + "LC_MEASUREMENT",
          "/usr/lib/x86_64-linux-gnu/gconv/gconv-modules.cache", locale + "LC_IDENTIFICATION",
          "/usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2"}));
  EXPECT_TRUE(parse_maps_libraries(fixture_file(kKthreadd, "maps")).empty());
}

TEST(ProcessInfoParse, LibrariesKeepSpacesAndDeletedAndSkipTheRest) {
  const std::string maps =
      "55e9e4a55000-55e9e4a57000 r--p 00000000 fe:00 248056                     /opt/my app/bin\n"
      "55e9e4a57000-55e9e4a5c000 r-xp 00002000 fe:00 248056                     /opt/my app/bin\n"
      "55e9e5000000-55e9e5021000 rw-p 00000000 00:00 0                          [heap]\n"
      "7f0000000000-7f0000001000 rw-p 00000000 00:00 0 \n"
      "7f0000001000-7f0000002000 rw-s 00000000 00:01 4711                       /memfd:ring "
      "(deleted)\n"
      "7f0000002000-7f0000003000 r--p 00000000 fe:00 999                        /usr/lib/old.so "
      "(deleted)\n"
      "7f0000003000-7f0000004000 rw-p 00000000 00:00 0                          [anon:jit]\n"
      "7ffd00000000-7ffd00021000 rw-p 00000000 00:00 0                          [stack]\n"
      "7ffd00021000-7ffd00022000 r-xp 00000000 00:00 0                          [vdso]\n"
      "garbage\n";
  EXPECT_EQ(parse_maps_libraries(maps),
            (std::vector<std::string>{"/opt/my app/bin", "/memfd:ring (deleted)",
                                      "/usr/lib/old.so (deleted)"}));
}

// ---- cmdline ----

TEST(ProcessInfoParse, CmdlineOfTheCapturedSleep) {
  Cmdline cmdline = join_cmdline(fixture_file(kSleeper, "cmdline"));
  EXPECT_EQ(cmdline.text, "sleep 1000 2000s");
  EXPECT_FALSE(cmdline.truncated);
  EXPECT_EQ(join_cmdline(fixture_file(kKthreadd, "cmdline")).text, "");
}

TEST(ProcessInfoParse, CmdlineCutAtACharacterBoundary) {
  // 451 bytes; byte 256 is the second byte of a '€' (E2 82 AC).
  const std::string raw = fixture_file(kHostile, "cmdline");
  ASSERT_EQ(raw.size(), 451u);
  ASSERT_EQ(static_cast<unsigned char>(raw[255]), 0xE2);
  Cmdline cmdline = join_cmdline(raw);
  EXPECT_TRUE(cmdline.truncated);
  ASSERT_EQ(cmdline.text.size(), 255u + 3u);  // the whole '€' goes, "…" comes
  EXPECT_EQ(cmdline.text.substr(255), "…");
  std::string joined = raw.substr(0, 255);
  std::replace(joined.begin(), joined.end(), '\0', ' ');
  EXPECT_EQ(cmdline.text.substr(0, 255), joined);
  EXPECT_TRUE(cmdline.text.starts_with("/usr/bin/python3 -c \nimport ctypes, sys, time\n"));
  EXPECT_NE(cmdline.text.find(" --pad=pp €€€"), std::string::npos) << cmdline.text;
  EXPECT_TRUE(cmdline.text.substr(0, 255).ends_with("€")) << cmdline.text;
}

TEST(ProcessInfoParse, CmdlineLimits) {
  const std::string a256(256, 'a');
  EXPECT_EQ(join_cmdline(a256 + '\0').text, a256);  // exactly the limit
  EXPECT_FALSE(join_cmdline(a256 + '\0').truncated);
  Cmdline longer = join_cmdline(a256 + "b", 256);
  EXPECT_EQ(longer.text, a256 + "…");
  EXPECT_TRUE(longer.truncated);
  // A 2-byte character ending on the limit, then one across it.
  EXPECT_EQ(join_cmdline(std::string(254, 'a') + "é", 256).text, std::string(254, 'a') + "é");
  EXPECT_EQ(join_cmdline(std::string(254, 'a') + "éx", 256).text, std::string(254, 'a') + "é…");
  EXPECT_EQ(join_cmdline(std::string(255, 'a') + "é", 256).text, std::string(255, 'a') + "…");
  EXPECT_EQ(join_cmdline(std::string(254, 'a') + "€", 256).text, std::string(254, 'a') + "…");
  EXPECT_EQ(join_cmdline(std::string(253, 'a') + "😀", 256).text, std::string(253, 'a') + "…");
  // No UTF-8 at the limit (continuation bytes only): cut where it is.
  EXPECT_EQ(join_cmdline(std::string(300, '\x80'), 256).text, std::string(256, '\x80') + "…");
}

TEST(ProcessInfoParse, CmdlineSeparatorsAndPadding) {
  using namespace std::string_literals;
  EXPECT_EQ(join_cmdline("a\0b c\0"s).text, "a b c");
  EXPECT_EQ(join_cmdline("a\0\0b\0"s).text, "a  b");  // an empty argument
  EXPECT_EQ(join_cmdline("nginx: worker process\0\0\0\0\0\0"s).text, "nginx: worker process");
  EXPECT_EQ(join_cmdline("no terminator").text, "no terminator");
  EXPECT_EQ(join_cmdline("").text, "");
  EXPECT_FALSE(join_cmdline("").truncated);
}

// ---- reads on the fixture tree ----

TEST(ProcessInfoRead, TheCapturedSleep) {
  std::optional<ProcessInfo> info = read_process_info(fixture_root(), kSleeper);
  ASSERT_TRUE(info);
  EXPECT_EQ(info->pid, kSleeper);
  EXPECT_EQ(info->ppid, 27090u);
  EXPECT_EQ(info->start_time, 956844u);
  EXPECT_EQ(info->name, "sleep");
  EXPECT_FALSE(info->kernel_thread);
  EXPECT_EQ(info->exe, "/usr/bin/sleep");
  EXPECT_EQ(info->cmdline, "sleep 1000 2000s");
  EXPECT_FALSE(info->cmdline_truncated);
  EXPECT_EQ(info->uid, 65534u);
  EXPECT_EQ(info->user, host_user(65534));
  EXPECT_EQ(info->cgroup, "/process_api/289222aa815d8fb144f41b20063fb45b");
  EXPECT_EQ(info->unit, "");
  EXPECT_EQ(info->container, "");
  EXPECT_EQ(info->fd_count, 7);  // not procfs: the fd/ entries counted
  EXPECT_TRUE(info->unreadable.empty()) << ::testing::PrintToString(info->unreadable);
}

TEST(ProcessInfoRead, TheHostileProcess) {
  std::optional<ProcessInfo> info = read_process_info(fixture_root(), kHostile);
  ASSERT_TRUE(info);
  EXPECT_EQ(info->name, R"(x) (y\nz)");  // escaped where it enters (issue #12)
  EXPECT_EQ(info->start_time, 956844u);
  EXPECT_EQ(info->exe, "/usr/bin/python3.11");
  EXPECT_TRUE(info->cmdline_truncated);
  EXPECT_EQ(info->cmdline.size(), 263u);  // 258, its control characters then escaped
  EXPECT_EQ(info->uid, 4242u);
  EXPECT_EQ(info->user, host_user(4242));  // "4242" where no passwd entry has it
  EXPECT_EQ(info->fd_count, 3);
  EXPECT_TRUE(info->unreadable.empty()) << ::testing::PrintToString(info->unreadable);
}

TEST(ProcessInfoRead, AKernelThread) {
  std::optional<ProcessInfo> info = read_process_info(fixture_root(), kKthreadd);
  ASSERT_TRUE(info);
  EXPECT_EQ(info->name, "kthreadd");
  EXPECT_TRUE(info->kernel_thread);
  EXPECT_EQ(info->exe, "");
  EXPECT_EQ(info->cmdline, "");
  EXPECT_EQ(info->uid, 0u);
  EXPECT_EQ(info->user, host_user(0));
  EXPECT_EQ(info->cgroup, "/");
  EXPECT_EQ(info->fd_count, 0);
  // No exe and no fd/ are what a kernel thread is, not failures.
  EXPECT_TRUE(info->unreadable.empty()) << ::testing::PrintToString(info->unreadable);
}

TEST(ProcessInfoRead, AVanishedPidIsNoProcess) {
  EXPECT_FALSE(read_process_info(fixture_root(), 99999));
  EXPECT_FALSE(read_process_detail(fixture_root(), 99999));
  EXPECT_FALSE(read_process_info(fixture_root(), 0));
  testing::ScratchDir scratch;
  testing::write_file(scratch.path() + "/600", "not a directory");
  EXPECT_FALSE(read_process_info(scratch.path(), 600));
}

TEST(ProcessInfoRead, AMissingProcRootIsAnError) {
  EXPECT_THROW(read_process_info("/nonexistent/proc", 1), RuntimeError);
  EXPECT_THROW(ProcessInfoCache("/nonexistent/proc"), RuntimeError);
}

TEST(ProcessInfoRead, MissingFilesAreNamedAndTheRestFilled) {
  testing::ScratchDir scratch;
  const std::string dir = scratch.path() + "/500";
  fs::create_directories(dir);
  testing::write_file(dir + "/stat", fixture_file(kSleeper, "stat"));
  testing::write_file(dir + "/status", fixture_file(kSleeper, "status"));
  std::optional<ProcessInfo> info = read_process_info(scratch.path(), 500);
  ASSERT_TRUE(info);  // stat is there: the process is
  EXPECT_EQ(info->name, "sleep");
  EXPECT_EQ(info->uid, 65534u);
  EXPECT_EQ(info->fd_count, -1);
  EXPECT_EQ(info->unreadable,
            (std::vector<std::string>{
                "cmdline: No such file or directory", "exe: No such file or directory",
                "fd: No such file or directory", "cgroup: No such file or directory"}));

  testing::write_file(dir + "/stat", "garbage");
  info = read_process_info(scratch.path(), 500);
  ASSERT_TRUE(info);
  EXPECT_TRUE(mentions(info->unreadable, "stat: unexpected content"));
}

TEST(ProcessInfoRead, DetailOfTheCapturedSleep) {
  std::optional<ProcessDetail> detail = read_process_detail(fixture_root(), kSleeper);
  ASSERT_TRUE(detail);
  EXPECT_EQ(detail->info.exe, "/usr/bin/sleep");
  EXPECT_EQ(detail->info.fd_count, 7);
  EXPECT_EQ(detail->threads, 1u);
  EXPECT_EQ(detail->rss_kib, 1756u);
  EXPECT_EQ(detail->limits.size(), 16u);
  ASSERT_EQ(detail->libraries.size(), 16u);
  EXPECT_EQ(detail->libraries.front(), "/usr/bin/sleep");
  EXPECT_TRUE(detail->unreadable.empty()) << ::testing::PrintToString(detail->unreadable);

  std::optional<ProcessDetail> kthread = read_process_detail(fixture_root(), kKthreadd);
  ASSERT_TRUE(kthread);
  EXPECT_TRUE(kthread->libraries.empty());
  EXPECT_EQ(kthread->rss_kib, 0u);
  EXPECT_EQ(kthread->limits.size(), 16u);
}

// ---- live processes ----

std::string self_exe() {
  char target[4096];
  ssize_t length = ::readlink("/proc/self/exe", target, sizeof target);
  return length < 0 ? std::string() : std::string(target, static_cast<size_t>(length));
}

TEST(ProcessInfoLive, ThisProcess) {
  const auto pid = static_cast<uint32_t>(::getpid());
  std::optional<ProcessInfo> info = read_process_info("/proc", pid);
  ASSERT_TRUE(info);
  EXPECT_EQ(info->pid, pid);
  EXPECT_EQ(info->ppid, static_cast<uint32_t>(::getppid()));
  EXPECT_EQ(info->exe, self_exe());
  EXPECT_EQ(info->uid, ::getuid());
  EXPECT_EQ(info->user, host_user(::getuid()));
  EXPECT_EQ(info->name + "\n", testing::read_file("/proc/self/comm"));
  EXPECT_EQ(info->cmdline, join_cmdline(testing::read_file("/proc/self/cmdline")).text);
  EXPECT_FALSE(info->cmdline.empty());
  EXPECT_GT(info->start_time, 0u);
  EXPECT_FALSE(info->kernel_thread);
  ASSERT_GE(info->fd_count, 3);  // at least stdin, stdout, stderr
  EXPECT_TRUE(info->unreadable.empty()) << ::testing::PrintToString(info->unreadable);

  UniqueFd file(::open("/dev/null", O_RDONLY | O_CLOEXEC));
  ASSERT_TRUE(file.valid());
  std::optional<ProcessInfo> after = read_process_info("/proc", pid);
  ASSERT_TRUE(after);
  EXPECT_EQ(after->fd_count, info->fd_count + 1);
  EXPECT_EQ(after->start_time, info->start_time);
}

// Starts `argv` in a child; the caller kills and reaps it.
pid_t spawn(const std::vector<std::string>& argv) {
  pid_t child = ::fork();
  if (child == 0) {
    std::vector<char*> args;
    args.reserve(argv.size() + 1);
    for (const std::string& arg : argv) {
      args.push_back(const_cast<char*>(arg.c_str()));
    }
    args.push_back(nullptr);
    ::execv(args[0], args.data());
    ::_exit(127);
  }
  return child;
}

void stop(pid_t child) {
  ::kill(child, SIGKILL);
  ::waitpid(child, nullptr, 0);
}

// Waits until the child runs `exe` (exec done) or a second has passed.
bool wait_for_exec(pid_t child, const std::string& exe_prefix) {
  for (int attempt = 0; attempt < 100; ++attempt) {
    std::optional<ProcessInfo> info = read_process_info("/proc", static_cast<uint32_t>(child));
    if (info && info->exe.starts_with(exe_prefix)) {
      return true;
    }
    ::usleep(10'000);
  }
  return false;
}

TEST(ProcessInfoLive, AChildAndItsDeletedExecutable) {
  testing::ScratchDir scratch;
  const std::string copy = scratch.path() + "/sleepy";
  fs::copy_file("/bin/sleep", copy);
  fs::permissions(copy, fs::perms::owner_all);
  pid_t child = spawn({copy, "1000", "2000s"});
  ASSERT_GT(child, 0);
  ASSERT_TRUE(wait_for_exec(child, copy));
  fs::remove(copy);
  std::optional<ProcessInfo> info = read_process_info("/proc", static_cast<uint32_t>(child));
  stop(child);
  ASSERT_TRUE(info);
  EXPECT_EQ(info->exe, copy + " (deleted)");
  EXPECT_EQ(info->name, "sleepy");
  EXPECT_EQ(info->cmdline, copy + " 1000 2000s");
  EXPECT_EQ(info->ppid, static_cast<uint32_t>(::getpid()));
}

TEST(ProcessInfoLive, AnExitedChildIsNoProcess) {
  pid_t child = ::fork();
  if (child == 0) {
    ::_exit(0);
  }
  ASSERT_GT(child, 0);
  ASSERT_EQ(::waitpid(child, nullptr, 0), child);
  EXPECT_FALSE(read_process_info("/proc", static_cast<uint32_t>(child)));
  EXPECT_FALSE(read_process_detail("/proc", static_cast<uint32_t>(child)));
  ProcessInfoCache cache("/proc");
  EXPECT_EQ(cache.get(static_cast<uint32_t>(child)), nullptr);
  EXPECT_EQ(cache.size(), 0u);
}

// Runs `describe` as nobody in a child (we are root) and returns its text.
std::string as_nobody(const std::function<std::string()>& describe) {
  int fds[2];
  if (::pipe(fds) != 0) {
    return "pipe failed";
  }
  pid_t child = ::fork();
  if (child == 0) {
    ::close(fds[0]);
    std::string text = "setuid failed";
    if (::setgid(65534) == 0 && ::setuid(65534) == 0) {
      text = describe();
    }
    ssize_t written = ::write(fds[1], text.data(), text.size());
    ::_exit(written == static_cast<ssize_t>(text.size()) ? 0 : 1);
  }
  ::close(fds[1]);
  std::string text;
  char buffer[4096];
  for (ssize_t n; (n = ::read(fds[0], buffer, sizeof buffer)) > 0;) {
    text.append(buffer, static_cast<size_t>(n));
  }
  ::close(fds[0]);
  ::waitpid(child, nullptr, 0);
  return text;
}

// exe, whether fds were counted and the command line read, the number of
// limits, then the notes, one per line.
std::string describe_detail(const std::string& proc_root, uint32_t pid) {
  std::optional<ProcessDetail> detail = read_process_detail(proc_root, pid);
  if (!detail) {
    return "gone";
  }
  std::string text = "exe=" + detail->info.exe + "\n";
  text += "fds_counted=" + std::to_string(detail->info.fd_count >= 0) + "\n";
  text += "cmdline_read=" + std::to_string(!detail->info.cmdline.empty()) + "\n";
  text += "limits=" + std::to_string(detail->limits.size()) + "\n";
  for (const std::string& note : detail->info.unreadable) {
    text += note + "\n";
  }
  for (const std::string& note : detail->unreadable) {
    text += note + "\n";
  }
  return text;
}

TEST(ProcessInfoLive, AnotherUsersProcessWithoutPrivileges) {
  if (::geteuid() != 0) {
    GTEST_SKIP() << "needs root to become nobody";
  }
  const auto pid = static_cast<uint32_t>(::getpid());
  const std::string text = as_nobody([pid] { return describe_detail("/proc", pid); });
  // exe and maps need ptrace access; cmdline, status, cgroup and limits
  // are world-readable. Linux >= 6.2 counts fds in a stat() anyone may do;
  // older kernels list fd/, which is refused.
  EXPECT_TRUE(text.starts_with("exe=\n")) << text;
  EXPECT_NE(text.find("exe: Permission denied\n"), std::string::npos) << text;
  EXPECT_NE(text.find("maps: Permission denied\n"), std::string::npos) << text;
  EXPECT_NE(text.find("cmdline_read=1\n"), std::string::npos) << text;
  EXPECT_NE(text.find("limits=16\n"), std::string::npos) << text;
  const bool counted = text.find("fds_counted=1\n") != std::string::npos;
  const bool refused = text.find("fd: Permission denied\n") != std::string::npos;
  EXPECT_NE(counted, refused) << text;
}

TEST(ProcessInfoLive, AProcessDirectoryThatCannotBeOpened) {
  if (::geteuid() != 0) {
    GTEST_SKIP() << "needs root to become nobody";
  }
  testing::ScratchDir scratch;
  ::chmod(scratch.path().c_str(), 0755);
  const std::string dir = scratch.path() + "/500";
  fs::create_directories(dir);
  testing::write_file(dir + "/stat", fixture_file(kSleeper, "stat"));
  ::chmod(dir.c_str(), 0);
  const std::string& root = scratch.path();
  std::string text = as_nobody([&root] {
    std::optional<ProcessInfo> info = read_process_info(root, 500);
    ProcessInfoCache cache(root);
    const ProcessInfo* cached = cache.get(500);
    if (!info || cached == nullptr) {
      return std::string("gone");
    }
    return ::testing::PrintToString(info->unreadable) + " " +
           ::testing::PrintToString(cached->unreadable) + " " + info->name;
  });
  EXPECT_EQ(text, "{ \"process: Permission denied\" } { \"process: Permission denied\" } ");
  ::chmod(dir.c_str(), 0755);  // so that it can be removed
}

// ---- ProcessInfoCache ----

// A copy of the fixture process `pid` that tests may change.
std::string copy_fixture(const testing::ScratchDir& scratch, uint32_t pid) {
  std::string target = scratch.path() + "/" + std::to_string(pid);
  fs::copy(fixture_root() + "/" + std::to_string(pid), target,
           fs::copy_options::recursive | fs::copy_options::copy_symlinks);
  return target;
}

void replace_in_file(const std::string& path, const std::string& from, const std::string& to) {
  std::string content = testing::read_file(path);
  size_t at = content.find(from);
  ASSERT_NE(at, std::string::npos) << from;
  content.replace(at, from.size(), to);
  testing::write_file(path, content);
}

TEST(ProcessInfoCacheTest, ReadsAProcessOncePerStartTime) {
  testing::ScratchDir scratch;
  const std::string dir = copy_fixture(scratch, kSleeper);
  ProcessInfoCache cache(scratch.path());

  const ProcessInfo* info = cache.get(kSleeper);
  ASSERT_NE(info, nullptr);
  EXPECT_EQ(info->name, "sleep");
  EXPECT_EQ(info->fd_count, 7);
  EXPECT_EQ(cache.full_reads(), 1u);

  // Same start time: the name, command line and exe are not read again...
  replace_in_file(dir + "/stat", "(sleep)", "(renamed)");
  testing::write_file(dir + "/cmdline", std::string("renamed\0", 8));
  fs::remove(dir + "/exe");
  // ...but the fd count is.
  fs::create_symlink("socket:[99]", dir + "/fd/7");
  info = cache.get(kSleeper);
  ASSERT_NE(info, nullptr);
  EXPECT_EQ(info->name, "sleep");
  EXPECT_EQ(info->cmdline, "sleep 1000 2000s");
  EXPECT_EQ(info->exe, "/usr/bin/sleep");
  EXPECT_EQ(info->fd_count, 8);
  EXPECT_EQ(cache.full_reads(), 1u);

  // A new start time is a new process under the same pid: read in full.
  replace_in_file(dir + "/stat", " 956844 ", " 956900 ");
  info = cache.get(kSleeper);
  ASSERT_NE(info, nullptr);
  EXPECT_EQ(info->name, "renamed");
  EXPECT_EQ(info->start_time, 956900u);
  EXPECT_EQ(info->cmdline, "renamed");
  EXPECT_EQ(info->exe, "");
  EXPECT_TRUE(mentions(info->unreadable, "exe: No such file or directory"));
  EXPECT_EQ(cache.full_reads(), 2u);
  EXPECT_EQ(cache.size(), 1u);
}

TEST(ProcessInfoCacheTest, RefreshesTheFdNote) {
  testing::ScratchDir scratch;
  const std::string dir = copy_fixture(scratch, kSleeper);
  ProcessInfoCache cache(scratch.path());
  ASSERT_NE(cache.get(kSleeper), nullptr);
  fs::remove_all(dir + "/fd");
  const ProcessInfo* info = cache.get(kSleeper);
  ASSERT_NE(info, nullptr);
  EXPECT_EQ(info->fd_count, -1);
  EXPECT_EQ(info->unreadable, (std::vector<std::string>{"fd: No such file or directory"}));
  fs::create_directories(dir + "/fd");
  info = cache.get(kSleeper);
  ASSERT_NE(info, nullptr);
  EXPECT_EQ(info->fd_count, 0);
  EXPECT_TRUE(info->unreadable.empty());
  EXPECT_EQ(cache.full_reads(), 1u);
}

TEST(ProcessInfoCacheTest, EvictsWhatASampleDidNotAskFor) {
  testing::ScratchDir scratch;
  copy_fixture(scratch, kSleeper);
  const std::string hostile = copy_fixture(scratch, kHostile);
  ProcessInfoCache cache(scratch.path());

  ASSERT_NE(cache.get(kSleeper), nullptr);
  ASSERT_NE(cache.get(kHostile), nullptr);
  cache.end_sample();
  EXPECT_EQ(cache.size(), 2u);

  ASSERT_NE(cache.get(kSleeper), nullptr);  // the hostile one is not asked for
  cache.end_sample();
  EXPECT_EQ(cache.size(), 1u);
  EXPECT_EQ(cache.full_reads(), 2u);

  ASSERT_NE(cache.get(kHostile), nullptr);  // back: read again
  EXPECT_EQ(cache.full_reads(), 3u);
  EXPECT_EQ(cache.size(), 2u);

  fs::remove_all(hostile);  // exited
  EXPECT_EQ(cache.get(kHostile), nullptr);
  EXPECT_EQ(cache.size(), 1u);
  cache.end_sample();
  cache.end_sample();
  EXPECT_EQ(cache.size(), 0u);
}

TEST(ProcessInfoCacheTest, ThisProcess) {
  ProcessInfoCache cache("/proc");
  const auto pid = static_cast<uint32_t>(::getpid());
  const ProcessInfo* info = cache.get(pid);
  ASSERT_NE(info, nullptr);
  const int64_t before = info->fd_count;
  EXPECT_EQ(info->exe, self_exe());
  UniqueFd file(::open("/dev/null", O_RDONLY | O_CLOEXEC));
  ASSERT_TRUE(file.valid());
  info = cache.get(pid);
  ASSERT_NE(info, nullptr);
  EXPECT_EQ(info->fd_count, before + 1);
  EXPECT_EQ(cache.full_reads(), 1u);
}

}  // namespace
}  // namespace ephport
