#pragma once
// What `ephport serve` answers:
//   /                 a small HTML page linking the others
//   /metrics          Prometheus text format 0.0.4 (output/prometheus.h)
//   /api/v1/snapshot  the ephport.snapshot/1 document (output/json.h)
//   /healthz          "ok": the server runs (no collection)
// /metrics and /api/v1/snapshot take the shared collection (single flight,
// reused for --collection.max-age). When it fails or does not finish within
// the collection timeout (shortened to Prometheus' own scrape timeout, from
// X-Prometheus-Scrape-Timeout-Seconds, less a margin), /metrics still
// answers 200 with ephport_scrape_success 0 and the scrape's own families,
// as Prometheus' exporter guidelines ask; /api/v1/snapshot answers 503 with
// {"error": "..."}.

#include <chrono>
#include <cstddef>

#include "output/prometheus.h"
#include "serve/shared_collection.h"
#include "serve/web_server.h"

namespace ephport {

struct EndpointOptions {
  MetricsOptions metrics;
  size_t snapshot_top = 10;  // destinations listed by /api/v1/snapshot; 0 = all
  std::chrono::milliseconds collection_timeout{8000};
};

// Registers the routes; `collection` must outlive the server's serve().
void add_exporter_endpoints(WebServer& server, SharedCollection& collection,
                            const EndpointOptions& options);

// The time a request may wait for the collection: `configured`, or less when
// the scraper says it gives up sooner (header value in seconds, less 0.5 s
// for the answer to travel back). Exposed for tests.
std::chrono::milliseconds scrape_wait(std::chrono::milliseconds configured,
                                      const std::string& scrape_timeout_header);

}  // namespace ephport
