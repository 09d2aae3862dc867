#include "serve/exporter_endpoints.h"

#include <fmt/format.h>

#include <algorithm>
#include <cstdlib>
#include <nlohmann/json.hpp>

#include "output/json.h"

namespace ephport {

namespace {

constexpr const char* kIndexPage = R"(<!DOCTYPE html>
<html lang="en">
<head><meta charset="utf-8"><title>ephport exporter</title></head>
<body>
<h1>ephport exporter</h1>
<p>How close each local address and destination is to running out of ephemeral ports.</p>
<ul>
<li><a href="metrics">/metrics</a>: Prometheus metrics</li>
<li><a href="api/v1/snapshot">/api/v1/snapshot</a>: the snapshot (ephport.snapshot/1 JSON)</li>
<li><a href="healthz">/healthz</a>: liveness</li>
</ul>
</body>
</html>
)";

// The snapshot lists `top` destinations per protocol; the collection keeps
// more for the metrics' folding.
Analysis cut_to_top(const Analysis& analysis, size_t top) {
  Analysis cut = analysis;
  if (top != 0) {
    for (ProtocolAnalysis* protocol : {&cut.tcp, &cut.udp}) {
      if (protocol->destinations.size() > top) {
        protocol->destinations.resize(top);
      }
    }
  }
  return cut;
}

double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

}  // namespace

std::chrono::milliseconds scrape_wait(std::chrono::milliseconds configured,
                                      const std::string& scrape_timeout_header) {
  constexpr std::chrono::milliseconds kMargin{500};
  constexpr std::chrono::milliseconds kFloor{100};
  if (scrape_timeout_header.empty()) {
    return configured;
  }
  char* end = nullptr;
  double seconds = std::strtod(scrape_timeout_header.c_str(), &end);
  if (end == scrape_timeout_header.c_str() || *end != '\0' || !(seconds > 0) || seconds > 86400) {
    return configured;
  }
  auto theirs = std::chrono::milliseconds(static_cast<int64_t>(seconds * 1000)) - kMargin;
  return std::clamp(theirs, kFloor, std::max(configured, kFloor));
}

void add_exporter_endpoints(WebServer& server, SharedCollection& collection,
                            const EndpointOptions& options) {
  server.get("/", [](const httplib::Request& /*request*/, httplib::Response& response) {
    response.set_content(kIndexPage, "text/html; charset=utf-8");
  });

  server.get("/healthz", [](const httplib::Request& /*request*/, httplib::Response& response) {
    response.set_content("ok\n", "text/plain; charset=utf-8");
  });

  server.get("/metrics", [&collection, options](const httplib::Request& request,
                                                httplib::Response& response) {
    auto started = std::chrono::steady_clock::now();
    auto wait = scrape_wait(options.collection_timeout,
                            request.get_header_value("X-Prometheus-Scrape-Timeout-Seconds"));
    std::optional<Collection> result = collection.get(wait);
    const Analysis* analysis = result ? result->analysis.get() : nullptr;
    ScrapeFacts facts;
    facts.success = analysis != nullptr;
    facts.collection_duration_seconds = result ? result->duration_seconds : 0;
    facts.collections_total = collection.collections();
    facts.collection_failures_total = collection.failures();
    facts.scrape_duration_seconds = seconds_since(started);
    response.set_content(render_prometheus(analysis, facts, options.metrics),
                         kPrometheusContentType);
  });

  server.get("/api/v1/snapshot", [&collection, options](const httplib::Request& /*request*/,
                                                        httplib::Response& response) {
    std::optional<Collection> result = collection.get(options.collection_timeout);
    if (!result || !result->analysis) {
      std::string error =
          result ? "collection failed: " + result->error
                 : fmt::format("collection did not finish within {:.1f} s",
                               std::chrono::duration<double>(options.collection_timeout).count());
      response.status = 503;
      response.set_content(nlohmann::json{{"error", error}}.dump() + "\n", "application/json");
      return;
    }
    response.set_content(render_json(cut_to_top(*result->analysis, options.snapshot_top)),
                         "application/json");
  });
}

}  // namespace ephport
