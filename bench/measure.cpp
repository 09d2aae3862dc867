// measure: runs one command and reports its wall time and peak RSS, so the
// benchmark needs no /usr/bin/time.
//
//   measure [--timeout SECONDS] [--stdout FILE] -- PROGRAM [ARGS...]
//
// The command's stdout goes to FILE (default /dev/null); stdin is /dev/null;
// stderr is inherited. After it exits, prints one line on stdout:
//
//   wall_ns <ns> maxrss_kib <KiB> status <code> user_ns <ns> sys_ns <ns>
//
// Wall time runs from just before fork() to the return of wait4(); status is
// the exit code, or 128 + the signal; user and sys are the child's CPU times
// (a netlink dump runs in the reader's recvmsg(), so it shows as sys time;
// CPU time suffers less than wall time when other work shares the machine).
// Peak RSS is the child's ru_maxrss. Linux counts the pre-exec image of the child in
// ru_maxrss too, so this program stays small (no iostreams); `measure --
// /bin/true` shows the floor. A command still running after the timeout
// (default 600 s) is killed with SIGKILL (status 137). Exits 0 when it could
// run the command, whatever the command's status; 1 if it could not.

#include <fcntl.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string_view>

namespace {

volatile sig_atomic_t timed_out = 0;

void on_alarm(int) {
  timed_out = 1;
}

int64_t now_ns() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return int64_t{ts.tv_sec} * 1000000000 + ts.tv_nsec;
}

int usage() {
  std::fprintf(stderr, "usage: measure [--timeout SECONDS] [--stdout FILE] -- PROGRAM [ARGS...]\n");
  return 2;
}

// In the child: stdin from /dev/null, stdout to `path`, then exec.
[[noreturn]] void run_child(const char* path, char** argv) {
  int in = open("/dev/null", O_RDONLY | O_CLOEXEC);
  int out = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (in < 0 || out < 0 || dup2(in, STDIN_FILENO) < 0 || dup2(out, STDOUT_FILENO) < 0) {
    std::fprintf(stderr, "measure: cannot redirect to %s: %s\n", path, std::strerror(errno));
    _exit(126);
  }
  execvp(argv[0], argv);
  std::fprintf(stderr, "measure: cannot run %s: %s\n", argv[0], std::strerror(errno));
  _exit(127);
}

}  // namespace

int main(int argc, char** argv) {
  const char* out_path = "/dev/null";
  unsigned timeout = 600;
  int first = 1;
  for (; first < argc; ++first) {
    std::string_view arg = argv[first];
    if (arg == "--") {
      ++first;
      break;
    }
    if (first + 1 >= argc) {
      return usage();
    }
    if (arg == "--stdout") {
      out_path = argv[++first];
    } else if (arg == "--timeout") {
      char* end = nullptr;
      unsigned long value = std::strtoul(argv[++first], &end, 10);
      if (*end != '\0' || value == 0 || value > 86400) {
        return usage();
      }
      timeout = static_cast<unsigned>(value);
    } else {
      return usage();
    }
  }
  if (first >= argc) {
    return usage();
  }

  struct sigaction action {};
  action.sa_handler = on_alarm;
  sigemptyset(&action.sa_mask);
  sigaction(SIGALRM, &action, nullptr);  // no SA_RESTART: wait4 returns EINTR

  const int64_t start = now_ns();
  pid_t child = fork();
  if (child < 0) {
    std::fprintf(stderr, "measure: fork: %s\n", std::strerror(errno));
    return 1;
  }
  if (child == 0) {
    run_child(out_path, argv + first);
  }
  alarm(timeout);
  int status = 0;
  rusage usage{};
  // Bounded: one EINTR for the alarm (after which the child is killed), any
  // other signal is not expected; give up after a few.
  pid_t reaped = -1;
  for (int attempt = 0; attempt < 16 && reaped != child; ++attempt) {
    reaped = wait4(child, &status, 0, &usage);
    if (reaped < 0 && errno != EINTR) {
      std::fprintf(stderr, "measure: wait4: %s\n", std::strerror(errno));
      return 1;
    }
    if (reaped < 0 && timed_out) {
      kill(child, SIGKILL);
    }
  }
  const int64_t end = now_ns();
  alarm(0);
  if (reaped != child) {
    std::fprintf(stderr, "measure: child %d not reaped\n", static_cast<int>(child));
    return 1;
  }
  const int code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  auto ns = [](const timeval& tv) {
    return static_cast<long long>(tv.tv_sec) * 1000000000 +
           static_cast<long long>(tv.tv_usec) * 1000;
  };
  std::printf("wall_ns %lld maxrss_kib %ld status %d user_ns %lld sys_ns %lld\n",
              static_cast<long long>(end - start), usage.ru_maxrss, code, ns(usage.ru_utime),
              ns(usage.ru_stime));
  return 0;
}
