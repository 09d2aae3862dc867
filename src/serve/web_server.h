#pragma once
// The HTTP(S) server of `ephport serve`, on cpp-httplib, with its limits:
// - TLS and basic authentication from --web.config.file (web_config.h);
// - at most `max_connections` connections served at once, each by one of as
//   many worker threads; further connections wait in the kernel's listen
//   queue (kListenBacklog) until a worker is free, like Prometheus'
//   --web.max-connections (accept() pauses, nothing is queued in memory);
// - read and write timeouts per connection (also bounding the TLS
//   handshake), keep-alive limits, a request body limit (413 beyond it);
//   request line and headers are capped at 8 KiB each by cpp-httplib.
// Routes are GET (and HEAD) only; every route needs the credentials when
// basic auth is configured.
//
// The listening socket is opened by the constructor in the calling thread's
// network namespace; the worker threads are started by serve() and inherit
// the network namespace and signal mask of the thread that calls it.

#include <httplib.h>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "serve/basic_auth.h"
#include "serve/web_config.h"
#include "util/host_port.h"

namespace ephport {

struct WebLimits {
  size_t max_connections = 16;
  std::chrono::milliseconds read_timeout{5000};
  std::chrono::milliseconds write_timeout{10000};
  size_t max_request_body = 4096;  // bytes; GET requests carry none
};

class WebServer {
 public:
  static constexpr int kListenBacklog = 128;

  using Handler = std::function<void(const httplib::Request&, httplib::Response&)>;

  // Binds `listen` now. Throws InputError for a bad TLS configuration or an
  // address that does not resolve, RuntimeError when the kernel refuses the
  // bind (the port is taken, the address is not local).
  WebServer(const HostPort& listen, const WebConfig& config, const WebLimits& limits);
  ~WebServer();
  WebServer(const WebServer&) = delete;
  WebServer& operator=(const WebServer&) = delete;

  void get(const std::string& path, Handler handler);

  // Serves until stop(); false if the listening socket failed.
  bool serve();
  // Thread-safe. Has no effect before serve() has started: call it again
  // until serve() returns.
  void stop();

  uint16_t port() const { return port_; }
  bool tls() const { return tls_; }
  // "https://127.0.0.1:19209", "http://[::1]:19209"
  std::string url() const;
  const BasicAuth& auth() const { return *auth_; }

 private:
  std::unique_ptr<httplib::Server> server_;
  std::unique_ptr<BasicAuth> auth_;
  HostPort listen_;
  uint16_t port_ = 0;
  bool tls_ = false;
  int listen_fd_ = -1;  // owned by server_
};

}  // namespace ephport
