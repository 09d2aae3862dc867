#include "serve_support.h"

#include <crypt.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <sstream>
#include <stdexcept>
#include <thread>

#include "platform/sigpipe_guard.h"
#include "util/host_port.h"

namespace ephport::lab {

namespace {

using namespace std::chrono_literals;

[[noreturn]] void fail_errno(const std::string& what) {
  throw std::runtime_error(what + ": " + std::strerror(errno));
}

std::vector<char*> argv_of(std::vector<std::string>& strings) {
  std::vector<char*> argv;
  argv.reserve(strings.size() + 1);
  for (std::string& s : strings) {
    argv.push_back(s.data());
  }
  argv.push_back(nullptr);
  return argv;
}

// In the child after fork(): stdin from `input`, stdout and stderr to
// `output`, nothing else open, killed with the test process; then exec.
[[noreturn]] void exec_child(std::vector<char*>& argv, const char* input, const char* output) {
  ::prctl(PR_SET_PDEATHSIG, SIGKILL);
  int in = ::open(input, O_RDONLY);
  int out = ::open(output, O_WRONLY | O_CREAT | O_APPEND, 0644);
  if (in < 0 || out < 0 || ::dup2(in, 0) < 0 || ::dup2(out, 1) < 0 || ::dup2(out, 2) < 0) {
    ::_exit(126);
  }
  ::close_range(3, ~0U, 0);
  ::execv(argv[0], argv.data());
  ::_exit(127);
}

int exit_code(int status) {
  if (WIFEXITED(status)) {
    return WEXITSTATUS(status);
  }
  return WIFSIGNALED(status) ? 128 + WTERMSIG(status) : -1;
}

// Waits for `pid` at most `timeout`; nullopt if it is still running.
std::optional<int> wait_for_exit(pid_t pid, std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    int status = 0;
    pid_t done = ::waitpid(pid, &status, WNOHANG);
    if (done == pid) {
      return exit_code(status);
    }
    if (done < 0) {
      fail_errno("waitpid");
    }
    if (std::chrono::steady_clock::now() >= deadline) {
      return std::nullopt;
    }
    std::this_thread::sleep_for(10ms);
  }
}

std::string temp_path(const std::string& stem) {
  std::string pattern = "/tmp/ephport-lab-" + stem + "-XXXXXX";
  int fd = ::mkstemp(pattern.data());
  if (fd < 0) {
    fail_errno("mkstemp");
  }
  ::close(fd);
  return pattern;
}

void run_checked(const std::vector<std::string>& argv) {
  ProgramResult result = run_program(argv);
  if (result.exit_code != 0) {
    std::string command;
    for (const std::string& word : argv) {
      command += word + " ";
    }
    throw std::runtime_error("command failed (exit " + std::to_string(result.exit_code) +
                             "): " + command + "\n" + result.out);
  }
}

}  // namespace

std::string require_tool(const std::string& tool, const std::string& package) {
  const char* path = std::getenv("PATH");
  std::stringstream dirs(path != nullptr ? path : "/usr/sbin:/usr/bin:/sbin:/bin");
  std::string dir;
  while (std::getline(dirs, dir, ':')) {
    std::string candidate = dir;
    candidate += "/";
    candidate += tool;
    if (::access(candidate.c_str(), X_OK) == 0) {
      return candidate;
    }
  }
  throw std::runtime_error(tool + " not found on PATH: install Debian's " + package +
                           " package (scripts/install-deps.sh does)");
}

ProgramResult run_program(const std::vector<std::string>& argv, const std::string& input,
                          std::chrono::milliseconds timeout) {
  std::string in_path = temp_path("in");
  std::string out_path = temp_path("out");
  write_file(in_path, input);
  std::vector<std::string> strings = argv;
  std::vector<char*> args = argv_of(strings);
  pid_t pid = ::fork();
  if (pid < 0) {
    fail_errno("fork");
  }
  if (pid == 0) {
    exec_child(args, in_path.c_str(), out_path.c_str());
  }
  std::optional<int> code = wait_for_exit(pid, timeout);
  if (!code) {
    ::kill(pid, SIGKILL);
    code = wait_for_exit(pid, 5s);
  }
  ProgramResult result;
  result.exit_code = code.value_or(-1);
  result.out = read_file(out_path);
  ::unlink(in_path.c_str());
  ::unlink(out_path.c_str());
  return result;
}

ChildProcess::ChildProcess(const std::vector<std::string>& argv, std::string log_path)
    : log_path_(std::move(log_path)) {
  std::vector<std::string> strings = argv;
  std::vector<char*> args = argv_of(strings);
  pid_ = ::fork();
  if (pid_ < 0) {
    fail_errno("fork");
  }
  if (pid_ == 0) {
    exec_child(args, "/dev/null", log_path_.c_str());
  }
}

ChildProcess::~ChildProcess() {
  if (pid_ > 0 && !status_) {
    stop(5s);
  }
}

bool ChildProcess::running() {
  if (status_) {
    return false;
  }
  status_ = wait_for_exit(pid_, 0ms);
  return !status_;
}

int ChildProcess::stop(std::chrono::milliseconds timeout) {
  if (!status_) {
    ::kill(pid_, SIGTERM);
    status_ = wait_for_exit(pid_, timeout);
    if (!status_) {
      ::kill(pid_, SIGKILL);
      status_ = wait_for_exit(pid_, 5s);
    }
  }
  return status_.value_or(-1);
}

std::string ChildProcess::log() const {
  return read_file(log_path_);
}

HttpAnswer http_get(const std::string& base, const std::string& path, const HttpOptions& options) {
  return http_get(base, path, {}, options);
}

HttpAnswer http_get(const std::string& base, const std::string& path, const httplib::Params& params,
                    const HttpOptions& options) {
  SigpipeGuard no_sigpipe;  // a server refusing the handshake closes mid-write
  bool tls = base.rfind("https://", 0) == 0;
  HostPort address = parse_host_port(base.substr(tls ? 8 : 7), "base URL");
  std::unique_ptr<httplib::ClientImpl> client;
  if (tls) {
    auto ssl = options.client_cert.empty()
                   ? std::make_unique<httplib::SSLClient>(address.host, address.port)
                   : std::make_unique<httplib::SSLClient>(address.host, address.port,
                                                          options.client_cert, options.client_key);
    if (!options.ca_file.empty()) {
      ssl->set_ca_cert_path(options.ca_file);
    }
    ssl->enable_server_certificate_verification(true);
    client = std::move(ssl);
  } else {
    client = std::make_unique<httplib::ClientImpl>(address.host, address.port);
  }
  client->set_connection_timeout(options.timeout);
  client->set_read_timeout(options.timeout);
  client->set_write_timeout(options.timeout);
  if (!options.user.empty()) {
    client->set_basic_auth(options.user, options.password);
  }
  httplib::Headers headers = {{"Host", address.str()}};
  httplib::Result result = client->Get(path, params, headers);
  HttpAnswer answer;
  if (!result) {
    answer.error = httplib::to_string(result.error());
    return answer;
  }
  answer.status = result->status;
  answer.body = result->body;
  answer.headers = result->headers;
  return answer;
}

ServeProcess::ServeProcess(const TempDir& dir, const std::string& name,
                           const std::vector<std::string>& args, std::string base,
                           const HttpOptions& probe)
    : base_(std::move(base)),
      process_(
          [&] {
            std::vector<std::string> argv = {EPHPORT_BINARY, "serve"};
            argv.insert(argv.end(), args.begin(), args.end());
            return argv;
          }(),
          dir.file(name + ".log")) {
  auto deadline = std::chrono::steady_clock::now() + 10s;
  for (;;) {
    HttpOptions quick = probe;
    quick.timeout = 1s;
    if (http_get(base_, "/healthz", quick).status == 200) {
      return;
    }
    if (!process_.running() || std::chrono::steady_clock::now() > deadline) {
      throw std::runtime_error("ephport serve did not come up on " + base_ + "; its log:\n" +
                               process_.log());
    }
    std::this_thread::sleep_for(50ms);
  }
}

TestCertificates make_certificates(const TempDir& dir) {
  std::string openssl = require_tool("openssl", "openssl");
  TestCertificates certs;
  auto self_signed = [&](const std::string& name) {
    run_checked({openssl, "req", "-x509", "-newkey", "ec", "-pkeyopt",
                 "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", dir.file(name + ".key"),
                 "-out", dir.file(name + ".crt"), "-days", "1", "-subj",
                 "/CN=ephport test " + name});
    return dir.file(name + ".crt");
  };
  auto signed_by_ca = [&](const std::string& name, const std::string& extensions) {
    write_file(dir.file(name + ".ext"), extensions);
    run_checked({openssl, "req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
                 "-nodes", "-keyout", dir.file(name + ".key"), "-out", dir.file(name + ".csr"),
                 "-subj", "/CN=ephport test " + name});
    run_checked({openssl, "x509", "-req", "-in", dir.file(name + ".csr"), "-CA", dir.file("ca.crt"),
                 "-CAkey", dir.file("ca.key"), "-CAcreateserial", "-out", dir.file(name + ".crt"),
                 "-days", "1", "-extfile", dir.file(name + ".ext")});
  };
  certs.ca_cert = self_signed("ca");
  certs.other_ca_cert = self_signed("other-ca");
  signed_by_ca("server", "subjectAltName=IP:127.0.0.1,IP:::1\nextendedKeyUsage=serverAuth\n");
  signed_by_ca("client", "extendedKeyUsage=clientAuth\n");
  certs.server_cert = dir.file("server.crt");
  certs.server_key = dir.file("server.key");
  certs.client_cert = dir.file("client.crt");
  certs.client_key = dir.file("client.key");
  return certs;
}

std::string bcrypt_hash(const std::string& password, int cost) {
  char setting[CRYPT_GENSALT_OUTPUT_SIZE];
  if (crypt_gensalt_rn("$2y$", static_cast<unsigned long>(cost), nullptr, 0, setting,
                       sizeof(setting)) == nullptr) {
    fail_errno("crypt_gensalt_rn");
  }
  auto data = std::make_unique<crypt_data>();
  const char* hash = crypt_rn(password.c_str(), setting, data.get(), sizeof(*data));
  if (hash == nullptr || hash[0] == '*') {
    throw std::runtime_error("crypt_rn failed");
  }
  return hash;
}

PrometheusServer::PrometheusServer(const TempDir& dir, const std::vector<std::string>& targets,
                                   uint16_t port, const std::string& scrape_config_extra)
    : base_("http://127.0.0.1:" + std::to_string(port)) {
  std::string prometheus = require_tool("prometheus", "prometheus");
  std::string list;
  for (const std::string& target : targets) {
    list += (list.empty() ? "'" : ", '") + target + "'";
  }
  write_file(dir.file("prometheus.yml"),
             "global:\n"
             "  scrape_interval: 1s\n"
             "  scrape_timeout: 1s\n"
             "scrape_configs:\n"
             "  - job_name: ephport\n"
             "    static_configs:\n"
             "      - targets: [" +
                 list + "]\n" + scrape_config_extra);
  process_ = std::make_unique<ChildProcess>(
      std::vector<std::string>{prometheus, "--config.file=" + dir.file("prometheus.yml"),
                               "--storage.tsdb.path=" + dir.file("data"),
                               "--web.listen-address=127.0.0.1:" + std::to_string(port),
                               "--log.level=warn"},
      dir.file("prometheus.log"));
  auto deadline = std::chrono::steady_clock::now() + 60s;
  while (http_get(base_, "/-/ready").status != 200) {
    if (!process_->running() || std::chrono::steady_clock::now() > deadline) {
      throw std::runtime_error("prometheus did not become ready; its log:\n" + process_->log());
    }
    std::this_thread::sleep_for(100ms);
  }
}

std::optional<double> PrometheusServer::query_one(const std::string& promql) {
  HttpAnswer answer = http_get(base_, "/api/v1/query", {{"query", promql}}, HttpOptions{});
  if (answer.status != 200) {
    throw std::runtime_error("prometheus query failed: " + std::to_string(answer.status) + " " +
                             answer.error + " " + answer.body);
  }
  Json reply = Json::parse(answer.body);
  const Json& result = reply.at("data").at("result");
  if (result.empty()) {
    return std::nullopt;
  }
  if (result.size() != 1) {
    throw std::runtime_error("query " + promql + " returned " + std::to_string(result.size()) +
                             " series: " + result.dump());
  }
  return std::stod(result[0].at("value").at(1).get<std::string>());
}

double PrometheusServer::wait_for(const std::string& promql, std::chrono::seconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    if (auto value = query_one(promql)) {
      return *value;
    }
    if (std::chrono::steady_clock::now() > deadline) {
      throw std::runtime_error("no sample for " + promql + " after " +
                               std::to_string(timeout.count()) + " s; prometheus log:\n" + log());
    }
    std::this_thread::sleep_for(200ms);
  }
}

std::vector<std::string> metric_names(const std::string& exposition) {
  std::vector<std::string> names;
  for (const std::string& line : split_lines(exposition)) {
    if (line.empty() || line[0] == '#') {
      continue;
    }
    names.push_back(line.substr(0, line.find_first_of("{ ")));
  }
  return names;
}

std::optional<double> metric_value(const std::string& exposition, const std::string& series) {
  for (const std::string& line : split_lines(exposition)) {
    if (line.size() > series.size() && line.compare(0, series.size(), series) == 0 &&
        line[series.size()] == ' ') {
      return std::stod(line.substr(series.size() + 1));
    }
  }
  return std::nullopt;
}

}  // namespace ephport::lab
