#include "fleet/remote_snapshots.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <httplib.h>
#include <netdb.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <poll.h>
#include <sys/socket.h>

#include <cerrno>
#include <condition_variable>
#include <cstring>
#include <fstream>
#include <mutex>

#include "fleet/snapshot_document.h"
#include "platform/sigpipe_guard.h"
#include "util/error.h"
#include "util/escape.h"
#include "util/fd.h"

namespace ephport {

namespace {

constexpr const char* kSnapshotPath = "/api/v1/snapshot";

double seconds(std::chrono::steady_clock::duration duration) {
  return std::chrono::duration<double>(duration).count();
}

std::string lower_first(std::string text) {
  if (!text.empty()) {
    text[0] = static_cast<char>(std::tolower(static_cast<unsigned char>(text[0])));
  }
  return text;
}

// cpp-httplib 0.11 reports every failed connect() as Error::Connection,
// without errno. One plain connect() within the time left says which it
// was: refused, unreachable, or no answer.
std::string diagnose_connect(const HostPort& address,
                             std::chrono::steady_clock::time_point deadline) {
  addrinfo hints{};
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  std::string port = std::to_string(address.port);
  int resolve = ::getaddrinfo(address.host.c_str(), port.c_str(), &hints, &found);
  if (resolve != 0) {
    return "cannot resolve " + address.host + ": " + ::gai_strerror(resolve);
  }
  std::unique_ptr<addrinfo, decltype(&::freeaddrinfo)> addresses(found, ::freeaddrinfo);
  UniqueFd fd(::socket(found->ai_family, found->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC,
                       found->ai_protocol));
  if (!fd.valid()) {
    return std::string("cannot connect: ") + std::strerror(errno);
  }
  if (::connect(fd.get(), found->ai_addr, found->ai_addrlen) != 0 && errno != EINPROGRESS) {
    return lower_first(std::strerror(errno));
  }
  auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
      deadline - std::chrono::steady_clock::now());
  pollfd wait{fd.get(), POLLOUT, 0};
  if (::poll(&wait, 1, static_cast<int>(std::max<int64_t>(0, left.count()))) <= 0) {
    return "no answer to connect()";
  }
  int error = 0;
  socklen_t length = sizeof(error);
  ::getsockopt(fd.get(), SOL_SOCKET, SO_ERROR, &error, &length);
  return error != 0 ? lower_first(std::strerror(error)) : "connection failed";
}

// The first line of an error answer's body, shortened and escaped: it is
// the remote's text, bound for the terminal and the log (an HTTP 500 body
// once cleared the screen).
std::string first_line(const std::string& body) {
  constexpr size_t kMax = 200;
  return excerpt(std::string_view(body).substr(0, body.find('\n')), kMax);
}

}  // namespace

std::string http_error_text(int status, const std::string& body, bool credentials_sent) {
  std::string text = fmt::format("HTTP {}", status);
  if (status == 401) {
    text += credentials_sent ? " (credentials refused)" : " (no --auth-file given)";
  } else if (!body.empty()) {
    text += ": " + first_line(body);
  }
  return text;
}

RemoteEndpoint parse_remote_endpoint(std::string_view text, const std::string& what) {
  RemoteEndpoint endpoint;
  endpoint.text = std::string(text);
  std::string_view rest = text;
  if (rest.rfind("https://", 0) == 0) {
    rest.remove_prefix(8);
  } else if (rest.rfind("http://", 0) == 0) {
    endpoint.tls = false;
    rest.remove_prefix(7);
  } else if (rest.find("://") != std::string_view::npos) {
    throw InputError(what + ": '" + std::string(text) + "': only http:// and https:// are known");
  }
  if (!rest.empty() && rest.back() == '/') {
    rest.remove_suffix(1);
  }
  endpoint.address = parse_host_port(rest, what);
  return endpoint;
}

std::vector<RemoteEndpoint> parse_remote_endpoints(std::string_view list, const std::string& what) {
  std::vector<RemoteEndpoint> endpoints;
  size_t start = 0;
  while (start <= list.size()) {
    size_t comma = list.find(',', start);
    std::string_view item = list.substr(
        start, comma == std::string_view::npos ? std::string_view::npos : comma - start);
    if (item.empty()) {
      throw InputError(what + ": empty entry in '" + std::string(list) + "'");
    }
    endpoints.push_back(parse_remote_endpoint(item, what));
    if (comma == std::string_view::npos) {
      break;
    }
    start = comma + 1;
  }
  return endpoints;
}

RemoteCredentials read_auth_file(const std::string& path) {
  std::ifstream in(path);
  if (!in) {
    throw InputError("--auth-file " + path + ": " + std::strerror(errno));
  }
  // The first line only, read to a bound: --auth-file /dev/zero must not
  // fill the memory.
  constexpr size_t kMaxLine = 4096;
  std::string head(kMaxLine + 1, '\0');
  in.read(head.data(), static_cast<std::streamsize>(head.size()));
  head.resize(static_cast<size_t>(in.gcount()));
  std::string line = head.substr(0, head.find('\n'));
  if (line.size() > kMaxLine) {
    throw InputError("--auth-file " + path + ": the first line is longer than 4096 bytes");
  }
  if (!line.empty() && line.back() == '\r') {
    line.pop_back();
  }
  if (line.find('\0') != std::string::npos) {
    throw InputError("--auth-file " + path + ": a NUL character in the first line");
  }
  size_t colon = line.find(':');
  if (colon == std::string::npos || colon == 0) {
    throw InputError("--auth-file " + path + ": the first line must be user:password");
  }
  return {line.substr(0, colon), line.substr(colon + 1)};
}

void check_ca_file(const std::string& path) {
  std::unique_ptr<BIO, decltype(&BIO_free)> bio(BIO_new_file(path.c_str(), "r"), BIO_free);
  if (!bio) {
    throw InputError("--ca-file " + path + ": " + std::strerror(errno));
  }
  std::unique_ptr<X509, decltype(&X509_free)> certificate(
      PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr), X509_free);
  if (!certificate) {
    throw InputError("--ca-file " + path + ": no PEM certificate in it");
  }
}

RemoteSample fetch_remote_snapshot(const RemoteEndpoint& endpoint, const RemoteOptions& options,
                                   std::chrono::steady_clock::time_point deadline) {
  SigpipeGuard no_sigpipe;  // a host closing mid-request must not kill the log
  RemoteSample sample;
  sample.endpoint = endpoint;
  sample.asked = std::chrono::system_clock::now();
  auto started = std::chrono::steady_clock::now();
  auto budget = std::chrono::duration_cast<std::chrono::microseconds>(deadline - started);
  if (budget.count() <= 0) {
    sample.error = "no time left";
    return sample;
  }
  std::unique_ptr<httplib::ClientImpl> client;
  httplib::SSLClient* tls_client = nullptr;
  if (endpoint.tls) {
    auto ssl = std::make_unique<httplib::SSLClient>(endpoint.address.host, endpoint.address.port);
    tls_client = ssl.get();
    if (!options.ca_file.empty()) {
      ssl->set_ca_cert_path(options.ca_file);
    }
    ssl->enable_server_certificate_verification(true);
    client = std::move(ssl);
  } else {
    client = std::make_unique<httplib::ClientImpl>(endpoint.address.host, endpoint.address.port);
  }
  // Each phase (connect, TLS handshake, each read and write) may take 90 %
  // of the budget, so the request ends, and says why, before pull() stops
  // waiting at the deadline. The content receiver below also stops a body
  // that trickles in past the deadline.
  auto phase = budget * 9 / 10;
  auto phase_s = static_cast<time_t>(phase.count() / 1000000);
  auto phase_us = static_cast<time_t>(phase.count() % 1000000);
  client->set_connection_timeout(phase_s, phase_us);
  client->set_read_timeout(phase_s, phase_us);
  client->set_write_timeout(phase_s, phase_us);
  client->set_keep_alive(false);
  client->set_follow_location(false);
  if (options.credentials) {
    client->set_basic_auth(options.credentials->user, options.credentials->password);
  }
  // cpp-httplib writes host:port unbracketed; an IPv6 host needs brackets.
  httplib::Headers headers = {{"Host", endpoint.address.str()}, {"Accept", "application/json"}};

  std::string body;
  bool too_large = false;
  bool late = false;
  httplib::Result result =
      client->Get(kSnapshotPath, headers, [&](const char* data, size_t length) {
        if (std::chrono::steady_clock::now() > deadline) {
          late = true;
          return false;
        }
        if (body.size() + length > options.max_document_bytes) {
          too_large = true;
          return false;
        }
        body.append(data, length);
        return true;
      });
  std::string timeout = fmt::format("timeout after {:.1f} s", seconds(deadline - started));
  // A failure that took a whole phase is the host being slow, whatever
  // cpp-httplib calls it (a stalled TLS handshake is Error::SSLConnection).
  bool out_of_time =
      std::chrono::steady_clock::now() - started >= phase - std::chrono::milliseconds(10);
  if (!result && out_of_time && result.error() != httplib::Error::Connection) {
    sample.error = too_large
                       ? fmt::format("answer larger than {} bytes", options.max_document_bytes)
                       : timeout;
    return sample;
  }
  if (!result) {
    switch (result.error()) {
      case httplib::Error::Connection:
        sample.error = diagnose_connect(endpoint.address, deadline);
        break;
      case httplib::Error::ConnectionTimeout:
        sample.error = timeout;
        break;
      case httplib::Error::SSLConnection:
        sample.error = "TLS handshake failed (is it serving HTTPS?)";
        break;
      case httplib::Error::SSLLoadingCerts:
        sample.error = "TLS: cannot load the CA file " + options.ca_file;
        break;
      case httplib::Error::SSLServerVerification: {
        long verify = tls_client != nullptr ? tls_client->get_openssl_verify_result() : 0;
        sample.error = verify != X509_V_OK
                           ? std::string("TLS: server certificate not trusted: ") +
                                 X509_verify_cert_error_string(verify)
                           : "TLS: server certificate does not name " + endpoint.address.host;
        break;
      }
      case httplib::Error::Canceled:
        sample.error = too_large
                           ? fmt::format("answer larger than {} bytes", options.max_document_bytes)
                           : timeout;
        break;
      default:
        sample.error = std::chrono::steady_clock::now() >= deadline || late
                           ? timeout
                           : "request failed: " + httplib::to_string(result.error());
        break;
    }
    return sample;
  }
  if (result->status != 200) {
    sample.error = http_error_text(result->status, body, options.credentials.has_value());
    return sample;
  }
  try {
    sample.analysis = parse_snapshot_document(body);
    sample.document = std::move(body);
  } catch (const FatalError& error) {
    sample.error = error.what();
  }
  return sample;
}

struct RemoteSnapshots::Job {
  std::mutex mutex;
  std::condition_variable done_changed;
  bool done = false;
  RemoteSample result;
};

RemoteSnapshots::RemoteSnapshots(std::vector<RemoteEndpoint> endpoints, RemoteOptions options)
    : options_(std::move(options)) {
  for (RemoteEndpoint& endpoint : endpoints) {
    slots_.push_back({std::move(endpoint), nullptr, std::thread()});
  }
}

RemoteSnapshots::~RemoteSnapshots() {
  for (Slot& slot : slots_) {
    if (slot.thread.joinable()) {
      slot.thread.join();
    }
  }
}

std::vector<RemoteSample> RemoteSnapshots::pull() {
  auto started = std::chrono::steady_clock::now();
  auto deadline = started + options_.timeout;
  std::vector<RemoteSample> samples(slots_.size());
  std::vector<bool> started_now(slots_.size(), false);
  for (size_t i = 0; i < slots_.size(); ++i) {
    Slot& slot = slots_[i];
    samples[i].endpoint = slot.endpoint;
    samples[i].asked = std::chrono::system_clock::now();
    if (slot.thread.joinable()) {
      bool done = false;
      {
        std::lock_guard lock(slot.job->mutex);
        done = slot.job->done;
      }
      if (!done) {
        samples[i].error = "busy: the previous request has not finished";
        continue;
      }
      slot.thread.join();
    }
    slot.job = std::make_shared<Job>();
    slot.thread =
        std::thread([job = slot.job, endpoint = slot.endpoint, options = options_, deadline] {
          RemoteSample result = fetch_remote_snapshot(endpoint, options, deadline);
          std::lock_guard lock(job->mutex);
          job->result = std::move(result);
          job->done = true;
          job->done_changed.notify_all();
        });
    started_now[i] = true;
  }
  for (size_t i = 0; i < slots_.size(); ++i) {
    if (!started_now[i]) {
      continue;
    }
    Job& job = *slots_[i].job;
    std::unique_lock lock(job.mutex);
    if (job.done_changed.wait_until(lock, deadline, [&] { return job.done; })) {
      samples[i] = job.result;
    } else {
      samples[i].error = fmt::format("timeout after {:.1f} s", seconds(options_.timeout));
    }
  }
  return samples;
}

}  // namespace ephport
