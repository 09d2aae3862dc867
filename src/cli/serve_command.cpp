// `ephport serve`: the Prometheus exporter and JSON API. Wiring only: the
// server is in serve/, the metrics in output/prometheus.

#include <fmt/format.h>
#include <pthread.h>

#include <algorithm>
#include <atomic>
#include <csignal>
#include <memory>
#include <thread>

#include "analyze/trend.h"
#include "cli/commands.h"
#include "cli/common_options.h"
#include "platform/signals.h"
#include "serve/exporter_endpoints.h"
#include "serve/shared_collection.h"
#include "serve/web_config.h"
#include "serve/web_server.h"
#include "util/error.h"

namespace ephport {

namespace {

// Outside 9100-9999 (Prometheus' exporter block, full since 2023), not in
// IANA's registry, and below 32768: outside Linux's default ephemeral range
// (32768-60999) and the IANA/Windows one (49152-65535), so an outgoing
// connection can never hold it when the exporter starts. docs/metrics.md.
constexpr const char* kDefaultListen = "127.0.0.1:19209";

struct ServeOptions {
  CommonOptions common;
  std::string listen = kDefaultListen;
  std::string web_config;
  int max_connections = 16;
  double read_timeout = 5;
  double write_timeout = 10;
  double collection_timeout = 8;
  double max_age = 1;
  int top_destinations = 20;
  int top_addresses = 20;
};

std::chrono::milliseconds millis(double seconds) {
  return std::chrono::milliseconds(static_cast<int64_t>(seconds * 1000));
}

// Errors of the web configuration's contents name the file.
std::unique_ptr<WebServer> open_server(const ServeOptions& options, const HostPort& listen,
                                       const WebConfig& config, const WebLimits& limits) {
  try {
    return std::make_unique<WebServer>(listen, config, limits);
  } catch (const InputError& error) {
    std::string message = error.what();
    if (message.rfind("basic_auth_users", 0) == 0 || message.rfind("tls_server_config", 0) == 0) {
      throw InputError("--web.config.file " + options.web_config + ": " + message);
    }
    throw;
  }
}

// SIGINT and SIGTERM go to the main thread only: threads started while they
// are blocked inherit the mask.
class BlockStopSignals {
 public:
  BlockStopSignals() {
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &set, &previous_);
  }
  ~BlockStopSignals() { pthread_sigmask(SIG_SETMASK, &previous_, nullptr); }
  BlockStopSignals(const BlockStopSignals&) = delete;
  BlockStopSignals& operator=(const BlockStopSignals&) = delete;

 private:
  sigset_t previous_{};
};

// SIGHUP (logrotate's postrotate, an operator after editing the file):
// re-reads and validates --web.config.file, saying the outcome in one
// stderr line; never ends serve. A bad file keeps the settings in use.
// The running cpp-httplib server cannot swap TLS or users, so a good file
// takes effect at the next start (the replacement server of issue #12
// applies it live).
void recheck_web_config(const std::string& path) {
  if (path.empty()) {
    fmt::print(stderr, "ephport: SIGHUP: no --web.config.file to re-read; serving on\n");
    return;
  }
  try {
    load_web_config(path);
    fmt::print(stderr,
               "ephport: SIGHUP: web config {} re-read and valid; it applies at the next "
               "start, the settings in use are kept\n",
               path);
  } catch (const std::exception& error) {
    fmt::print(stderr, "ephport: SIGHUP: web config not reloaded, keeping the one in use: {}\n",
               error.what());
  }
}

int run_serve(const ServeOptions& options) {
  if (options.common.all_namespaces()) {
    throw InputError("--netns all: serve reads one namespace; run one serve per namespace");
  }
  HostPort listen = parse_host_port(options.listen, "--listen", true);
  WebConfig config;
  if (!options.web_config.empty()) {
    config = load_web_config(options.web_config);
  }
  SampleOptions sample = options.common.to_sample_options();
  // One more destination than the metrics list: the worst folded one.
  if (sample.top != 0) {
    sample.top = std::max(sample.top, static_cast<size_t>(options.top_destinations) + 1);
  }
  WebLimits limits;
  limits.max_connections = static_cast<size_t>(options.max_connections);
  limits.read_timeout = millis(options.read_timeout);
  limits.write_timeout = millis(options.write_timeout);
  // The socket is opened where ephport started: with --netns the exporter
  // stays reachable from there while it reads the other namespace.
  std::unique_ptr<WebServer> server = open_server(options, listen, config, limits);
  options.common.enter_namespace();
  install_stop_handlers();

  // Both used by the collection thread only, one collection at a time. The
  // session keeps what samples can share (the loaded owner walk, process
  // identities); it is made here, in the namespace the collections read.
  auto session = std::make_shared<SampleSession>(sample);
  auto trend = std::make_shared<Trend>();
  EndpointOptions endpoints;
  endpoints.metrics.top_destinations = static_cast<size_t>(options.top_destinations);
  endpoints.metrics.top_addresses = static_cast<size_t>(options.top_addresses);
  endpoints.snapshot_top = static_cast<size_t>(options.common.top);
  endpoints.collection_timeout = millis(options.collection_timeout);

  std::atomic<bool> served{false};
  bool serve_ok = true;
  std::unique_ptr<SharedCollection> collection;
  std::thread serving;
  {
    BlockStopSignals blocked;
    collection = std::make_unique<SharedCollection>(
        [session, trend] {
          Analysis analysis = session->take(nullptr);
          trend->observe_and_annotate(analysis);
          return analysis;
        },
        millis(options.max_age));
    add_exporter_endpoints(*server, *collection, endpoints);
    serving = std::thread([&] {
      serve_ok = server->serve();
      served = true;
    });
  }
  fmt::print(stderr, "ephport: serving {}/metrics and {}/api/v1/snapshot{}{}\n", server->url(),
             server->url(), server->auth().enabled() ? " (basic auth)" : "",
             options.common.netns.empty() ? "" : " for netns " + options.common.netns);

  while (!served && !stop_requested()) {
    sleep_until_stop_or(std::chrono::steady_clock::now() + std::chrono::milliseconds(200));
    if (take_reopen_request()) {
      recheck_web_config(options.web_config);
    }
  }
  // stop() does nothing until the accept loop runs: repeat until it ends.
  while (!served) {
    server->stop();
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  serving.join();
  collection.reset();
  if (!serve_ok && !stop_requested()) {
    throw RuntimeError("the listening socket on " + server->url() + " failed");
  }
  return kExitOk;
}

}  // namespace

CommandRunner add_serve_command(CLI::App& app) {
  auto options = std::make_shared<ServeOptions>();
  CLI::App* command = app.add_subcommand(
      "serve", "Prometheus exporter (/metrics) and JSON API (/api/v1/snapshot) over HTTP(S)");
  add_common_options(*command, options->common, /*netns_all=*/false);
  command
      ->add_option("--listen,--web.listen-address", options->listen,
                   "Address to listen on, ADDR:PORT or [IPV6]:PORT (port 0: any free port)")
      ->capture_default_str();
  command->add_option("--web.config.file", options->web_config,
                      "TLS and basic auth settings, in the Prometheus exporter-toolkit format");
  command
      ->add_option("--web.max-connections", options->max_connections,
                   "Connections served at once (worker threads); more wait in the listen queue")
      ->check(CLI::Range(1, 1024))
      ->capture_default_str();
  command
      ->add_option("--web.read-timeout", options->read_timeout,
                   "Seconds to wait for a request (and the TLS handshake)")
      ->check(CLI::Range(0.1, 600.0))
      ->capture_default_str();
  command
      ->add_option("--web.write-timeout", options->write_timeout,
                   "Seconds a response may take to send")
      ->check(CLI::Range(0.1, 600.0))
      ->capture_default_str();
  command
      ->add_option("--collection.timeout", options->collection_timeout,
                   "Seconds a scrape waits for the collection (less when Prometheus' scrape "
                   "timeout is shorter)")
      ->check(CLI::Range(0.1, 600.0))
      ->capture_default_str();
  command
      ->add_option("--collection.max-age", options->max_age,
                   "Seconds a collection's result is reused by later scrapes (0: only by "
                   "scrapes that arrive while it runs)")
      ->check(CLI::Range(0.0, 3600.0))
      ->capture_default_str();
  command
      ->add_option("--metrics.top-destinations", options->top_destinations,
                   "Destinations with series of their own per protocol, worst first; the rest "
                   "are folded")
      ->check(CLI::Range(0, 10000))
      ->capture_default_str();
  command
      ->add_option("--metrics.top-addresses", options->top_addresses,
                   "Local addresses with series of their own per protocol, busiest first; the "
                   "rest are folded")
      ->check(CLI::Range(0, 10000))
      ->capture_default_str();
  return [options, command]() {
    if (!command->parsed()) {
      return -1;
    }
    return run_serve(*options);
  };
}

}  // namespace ephport
