#include "serve/web_server.h"

#include <netdb.h>
#include <sys/socket.h>

#include <cerrno>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <mutex>
#include <thread>
#include <vector>

#include "serve/tls_context.h"
#include "util/error.h"

namespace ephport {

namespace {

// cpp-httplib's ThreadPool queues every accepted connection in memory. This
// queue holds at most as many connections as it has workers, queued and
// running together: enqueue() (called by the accept loop) waits for a free
// worker, so the next connections wait in the kernel's listen queue.
class BoundedTaskQueue : public httplib::TaskQueue {
 public:
  explicit BoundedTaskQueue(size_t threads) : limit_(threads) {
    for (size_t i = 0; i < threads; ++i) {
      workers_.emplace_back([this] { work(); });
    }
  }
  ~BoundedTaskQueue() override { shutdown(); }
  BoundedTaskQueue(const BoundedTaskQueue&) = delete;
  BoundedTaskQueue& operator=(const BoundedTaskQueue&) = delete;

  void enqueue(std::function<void()> job) override {
    std::unique_lock lock(mutex_);
    space_.wait(lock, [&] { return busy_ + jobs_.size() < limit_ || shutdown_; });
    jobs_.push_back(std::move(job));
    work_.notify_one();
  }

  // Runs what is queued, then stops the workers.
  void shutdown() override {
    {
      std::lock_guard lock(mutex_);
      shutdown_ = true;
    }
    work_.notify_all();
    space_.notify_all();
    for (std::thread& worker : workers_) {
      if (worker.joinable()) {
        worker.join();
      }
    }
  }

 private:
  void work() {
    std::unique_lock lock(mutex_);
    for (;;) {
      work_.wait(lock, [&] { return !jobs_.empty() || shutdown_; });
      if (jobs_.empty()) {
        return;  // shut down and drained
      }
      std::function<void()> job = std::move(jobs_.front());
      jobs_.pop_front();
      ++busy_;
      lock.unlock();
      job();  // serves one connection and closes it
      lock.lock();
      --busy_;
      space_.notify_one();
    }
  }

  size_t limit_;
  std::mutex mutex_;
  std::condition_variable work_;
  std::condition_variable space_;
  std::deque<std::function<void()>> jobs_;
  size_t busy_ = 0;
  bool shutdown_ = false;
  std::vector<std::thread> workers_;
};

std::pair<time_t, time_t> seconds_and_micros(std::chrono::milliseconds duration) {
  return {static_cast<time_t>(duration.count() / 1000),
          static_cast<time_t>((duration.count() % 1000) * 1000)};
}

// A short body for error answers that have none (404, 405, 413, ...).
std::string status_text(int status) {
  switch (status) {
    case 400:
      return "400 Bad Request\n";
    case 404:
      return "404 Not Found: see / for the endpoints\n";
    case 405:
      return "405 Method Not Allowed: GET only\n";
    case 413:
      return "413 Payload Too Large\n";
    case 414:
      return "414 URI Too Long\n";
    default:
      return std::to_string(status) + "\n";
  }
}

// Resolves first, so an unknown host name is its own clear error rather
// than a failed bind.
void check_resolves(const HostPort& listen) {
  addrinfo hints{};
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE;
  addrinfo* found = nullptr;
  int error = ::getaddrinfo(listen.host.c_str(), nullptr, &hints, &found);
  if (error != 0) {
    throw InputError("--listen " + listen.str() + ": cannot resolve '" + listen.host +
                     "': " + ::gai_strerror(error));
  }
  ::freeaddrinfo(found);
}

}  // namespace

WebServer::WebServer(const HostPort& listen, const WebConfig& config, const WebLimits& limits)
    : auth_(std::make_unique<BasicAuth>(config.basic_auth_users)), listen_(listen) {
  if (config.tls) {
    std::string error;
    server_ = std::make_unique<httplib::SSLServer>([&](SSL_CTX& context) {
      error = configure_tls_server(context, *config.tls);
      return error.empty();
    });
    if (!server_->is_valid()) {
      throw InputError(error.empty() ? "cannot create the TLS context: " + openssl_errors()
                                     : error);
    }
    tls_ = true;
  } else {
    server_ = std::make_unique<httplib::Server>();
  }

  size_t threads = limits.max_connections;
  server_->new_task_queue = [threads] { return new BoundedTaskQueue(threads); };
  auto [read_s, read_us] = seconds_and_micros(limits.read_timeout);
  auto [write_s, write_us] = seconds_and_micros(limits.write_timeout);
  server_->set_read_timeout(read_s, read_us);
  server_->set_write_timeout(write_s, write_us);
  server_->set_keep_alive_timeout(std::max<time_t>(1, read_s));
  server_->set_keep_alive_max_count(100);
  server_->set_payload_max_length(limits.max_request_body);
  server_->set_tcp_nodelay(true);
  // cpp-httplib's default sets SO_REUSEPORT, which would let a second
  // exporter bind the same port and share the scrapes silently; plain
  // SO_REUSEADDR only survives a restart over TIME_WAIT.
  server_->set_socket_options([this](int fd) {
    int yes = 1;
    ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof(yes));
    listen_fd_ = fd;
  });
  if (auth_->enabled()) {
    server_->set_pre_routing_handler(
        [this](const httplib::Request& request, httplib::Response& response) {
          if (auth_->check_header(request.get_header_value("Authorization"))) {
            return httplib::Server::HandlerResponse::Unhandled;
          }
          response.status = 401;
          response.set_header("WWW-Authenticate", "Basic realm=\"ephport\"");
          response.set_content("Unauthorized\n", "text/plain; charset=utf-8");
          return httplib::Server::HandlerResponse::Handled;
        });
  }
  server_->set_error_handler([](const httplib::Request& /*request*/, httplib::Response& response) {
    if (response.body.empty()) {
      response.set_content(status_text(response.status), "text/plain; charset=utf-8");
    }
  });

  check_resolves(listen);
  errno = 0;
  if (listen.port == 0) {
    int port = server_->bind_to_any_port(listen.host);
    if (port > 0) {
      port_ = static_cast<uint16_t>(port);
    }
  } else if (server_->bind_to_port(listen.host, listen.port)) {
    port_ = listen.port;
  }
  if (port_ == 0) {
    // cpp-httplib closes the socket after the failed bind(); errno is bind's.
    throw RuntimeError("cannot listen on " + listen.str() + ": " +
                       (errno != 0 ? std::strerror(errno) : "bind failed"));
  }
  // cpp-httplib listens with a backlog of 5; a second listen() on a
  // listening socket only changes its backlog (Linux inet_listen), so bursts
  // of scrapes wait in the kernel instead of retrying their SYN.
  if (listen_fd_ >= 0) {
    ::listen(listen_fd_, kListenBacklog);
  }
}

WebServer::~WebServer() = default;

void WebServer::get(const std::string& path, Handler handler) {
  server_->Get(path, std::move(handler));
}

bool WebServer::serve() {
  return server_->listen_after_bind();
}

void WebServer::stop() {
  server_->stop();
}

std::string WebServer::url() const {
  HostPort bound = listen_;
  bound.port = port_;
  return std::string(tls_ ? "https://" : "http://") + bound.str();
}

}  // namespace ephport
