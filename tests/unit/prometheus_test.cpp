// The Prometheus exposition (output/prometheus.h): on the analysis of the
// captured fixture namespace (tests/fixtures/proc, as end_to_end_test.cpp)
// and on synthetic populations. Checks the text format's rules that
// promtool checks too (HELP and TYPE before each family, families
// contiguous, counters and only counters named _total), the naming rules
// promtool does not check (no "percent"), the figures against the analysis,
// and the series bound.

#include "output/prometheus.h"

#include <gtest/gtest.h>

#include <map>
#include <regex>
#include <set>
#include <sstream>

#include "aggregator_fixtures.h"
#include "analyze/aggregator.h"
#include "collect_fixtures.h"
#include "pipeline/sample.h"
#include "temp_dir.h"

namespace ephport {
namespace {

using testing::fixture_path;

Analysis fixture_analysis(size_t top = 0) {
  SampleOptions options;
  options.linux_options.source = Source::procfs;
  options.linux_options.proc_root = fixture_path("proc");
  options.top = top;
  options.linux_options.bind_state = LinuxOptions::BindState::estimate;
  return take_sample(options, nullptr);
}

ScrapeFacts good_scrape() {
  ScrapeFacts facts;
  facts.success = true;
  facts.scrape_duration_seconds = 0.25;
  facts.collection_duration_seconds = 0.125;
  facts.collections_total = 3;
  return facts;
}

struct Sample {
  std::string name;
  std::string labels;  // as written, without braces
  std::string value;
};

struct Parsed {
  std::map<std::string, std::string> types;  // family -> type
  std::vector<Sample> samples;
};

// Reads the exposition back, failing the test on any line the 0.0.4 text
// format (or our conventions) would not accept.
Parsed parse_exposition(const std::string& text) {
  static const std::regex kHelp(R"(^# HELP (ephport_[a-z0-9_]+) \S.*$)");
  static const std::regex kType(R"(^# TYPE (ephport_[a-z0-9_]+) (gauge|counter)$)");
  static const std::regex kSample(
      R"(^(ephport_[a-z0-9_]+)(?:\{((?:[a-z_]+="(?:[^"\\\n]|\\.)*",?)*)\})? (\S+)$)");
  Parsed parsed;
  std::set<std::string> helped;
  std::set<std::string> closed;  // families already left: they must not come back
  std::set<std::string> series;
  std::string current;
  std::istringstream in(text);
  std::string line;
  std::smatch match;
  while (std::getline(in, line)) {
    if (std::regex_match(line, match, kHelp)) {
      EXPECT_TRUE(helped.insert(match[1]).second) << "second HELP: " << line;
      if (!current.empty()) {
        closed.insert(current);
      }
      current = match[1];
      EXPECT_EQ(closed.count(current), 0u) << "family split: " << line;
    } else if (std::regex_match(line, match, kType)) {
      EXPECT_EQ(match[1], current) << "TYPE without its HELP: " << line;
      parsed.types[match[1]] = match[2];
    } else if (std::regex_match(line, match, kSample)) {
      EXPECT_EQ(match[1], current) << "sample outside its family: " << line;
      EXPECT_TRUE(series.insert(std::string(match[1]) + "{" + std::string(match[2]) + "}").second)
          << "duplicate series: " << line;
      double value = 0;
      EXPECT_NO_THROW(value = std::stod(match[3])) << line;
      (void)value;
      parsed.samples.push_back({match[1], match[2], match[3]});
    } else {
      ADD_FAILURE() << "not an exposition line: '" << line << "'";
    }
  }
  for (const auto& [family, type] : parsed.types) {
    bool total = family.size() > 6 && family.compare(family.size() - 6, 6, "_total") == 0;
    EXPECT_EQ(total, type == "counter") << family << " is a " << type;
    EXPECT_EQ(family.find("percent"), std::string::npos) << family;
  }
  return parsed;
}

// The value of the one series of `name` whose labels are exactly `labels`.
std::optional<double> value_of(const Parsed& parsed, const std::string& name,
                               const std::string& labels = "") {
  for (const Sample& sample : parsed.samples) {
    if (sample.name == name && sample.labels == labels) {
      return std::stod(sample.value);
    }
  }
  return std::nullopt;
}

// Series of `name` whose labels start with `labels_prefix`.
size_t series_of(const Parsed& parsed, const std::string& name,
                 const std::string& labels_prefix = R"(protocol="tcp")") {
  size_t count = 0;
  for (const Sample& sample : parsed.samples) {
    count += sample.name == name && sample.labels.rfind(labels_prefix, 0) == 0 ? 1 : 0;
  }
  return count;
}

TEST(Prometheus, FixtureExpositionFollowsTheFormat) {
  Analysis analysis = fixture_analysis();
  Parsed parsed = parse_exposition(render_prometheus(&analysis, good_scrape(), {}));
  for (const char* family :
       {"ephport_build_info", "ephport_scrape_success", "ephport_scrape_duration_seconds",
        "ephport_collections_total", "ephport_capacity_ports", "ephport_pressure_ratio",
        "ephport_local_address_ports_in_use", "ephport_local_address_bind_free_ports",
        "ephport_destination_usage_ratio", "ephport_destinations", "ephport_sockets",
        "ephport_bind_state_exact", "ephport_bind_owned_ports"}) {
    EXPECT_EQ(parsed.types.count(family), 1u) << family;
  }
  EXPECT_EQ(parsed.types["ephport_collections_total"], "counter");
  EXPECT_EQ(value_of(parsed, "ephport_build_info", "version=\"" EPHPORT_VERSION "\""), 1.0);
  EXPECT_EQ(value_of(parsed, "ephport_scrape_success"), 1.0);
  EXPECT_EQ(value_of(parsed, "ephport_scrape_duration_seconds"), 0.25);
  EXPECT_EQ(value_of(parsed, "ephport_collections_total"), 3.0);
}

TEST(Prometheus, FiguresAreTheAnalysisInBaseUnits) {
  Analysis analysis = fixture_analysis();
  Parsed parsed = parse_exposition(render_prometheus(&analysis, good_scrape(), {}));
  const ProtocolAnalysis& tcp = analysis.tcp;
  EXPECT_EQ(value_of(parsed, "ephport_capacity_ports", R"(protocol="tcp")"), tcp.capacity);
  EXPECT_DOUBLE_EQ(*value_of(parsed, "ephport_pressure_ratio", R"(protocol="tcp")"),
                   tcp.pressure_percent / 100);
  EXPECT_EQ(value_of(parsed, "ephport_range_first_port", R"(protocol="tcp")"), tcp.range.first);
  EXPECT_EQ(value_of(parsed, "ephport_destinations", R"(protocol="tcp")"), tcp.destination_count);
  EXPECT_EQ(value_of(parsed, "ephport_sockets", R"(protocol="tcp",state="TIME_WAIT")"),
            tcp.states[static_cast<size_t>(SockState::time_wait)]);
  EXPECT_EQ(value_of(parsed, "ephport_sockets", R"(protocol="tcp",state="SYN_SENT")"), 0.0)
      << "a TCP state with no socket still has its series";
  ASSERT_FALSE(tcp.addresses.empty());
  const AddressRow& first = tcp.addresses.front();
  std::string labels = R"(protocol="tcp",address=")" + first.address.str() + "\"";
  EXPECT_EQ(value_of(parsed, "ephport_local_address_ports_in_use", labels), first.ports_in_use);
  EXPECT_EQ(value_of(parsed, "ephport_local_address_bind_free_ports", labels), first.bind_free);
  EXPECT_DOUBLE_EQ(*value_of(parsed, "ephport_local_address_usage_ratio", labels),
                   first.usage_percent / 100);
  ASSERT_FALSE(tcp.destinations.empty());
  const DestinationRow& worst = tcp.destinations.front();
  std::string destination = R"(protocol="tcp",local_address=")" + worst.local_address.str() +
                            R"(",remote_address=")" + worst.remote_address.str() +
                            R"(",remote_port=")" + std::to_string(worst.remote_port) + "\"";
  EXPECT_DOUBLE_EQ(*value_of(parsed, "ephport_destination_usage_ratio", destination),
                   worst.usage_percent / 100);
  EXPECT_EQ(value_of(parsed, "ephport_destination_connect_free_ports", destination),
            worst.connect_free);
  // No forecast in a single sample: the family is left out, not written empty.
  EXPECT_EQ(parsed.types.count("ephport_exhausts_in_seconds"), 0u);
}

// Issue #11, "metrics say which series are estimated": with an estimated
// bind state (the fixture's), each estimated TCP series has its bounds
// beside it, the kernel's figure lying between them; with the exact one
// (BPF), none: the figures are the kernel's own.
TEST(Prometheus, EstimatedSeriesHaveTheirBounds) {
  Analysis analysis = fixture_analysis();
  ASSERT_EQ(analysis.bind_state, BindState::estimated);
  const ProtocolAnalysis& tcp = analysis.tcp;
  ASSERT_LT(tcp.bind_owned_ports_min, tcp.bind_owned_ports_max) << "the fixture is uncertain";
  Parsed parsed = parse_exposition(render_prometheus(&analysis, good_scrape(), {}));
  EXPECT_EQ(value_of(parsed, "ephport_bind_state_exact"), 0.0);
  const std::string protocol = R"(protocol="tcp")";
  EXPECT_EQ(value_of(parsed, "ephport_bind_owned_ports", protocol), tcp.bind_owned_ports);
  EXPECT_EQ(value_of(parsed, "ephport_bind_owned_min_ports", protocol), tcp.bind_owned_ports_min);
  EXPECT_EQ(value_of(parsed, "ephport_bind_owned_max_ports", protocol), tcp.bind_owned_ports_max);
  EXPECT_FALSE(value_of(parsed, "ephport_bind_owned_max_ports", R"(protocol="udp")"))
      << "UDP has no bind state to estimate";

  ASSERT_FALSE(tcp.destinations.empty());
  for (const DestinationRow& d : tcp.destinations) {
    const std::string labels = R"(protocol="tcp",local_address=")" + d.local_address.str() +
                               R"(",remote_address=")" + d.remote_address.str() +
                               R"(",remote_port=")" + std::to_string(d.remote_port) + "\"";
    EXPECT_EQ(value_of(parsed, "ephport_destination_connect_free_min_ports", labels),
              d.connect_free_min);
    EXPECT_EQ(value_of(parsed, "ephport_destination_connect_free_max_ports", labels),
              d.connect_free_max);
  }
  EXPECT_EQ(series_of(parsed, "ephport_destination_connect_free_min_ports"),
            series_of(parsed, "ephport_destination_connect_free_ports"));
  for (const AddressRow& a : tcp.addresses) {
    const std::string labels = R"(protocol="tcp",address=")" + a.address.str() + "\"";
    EXPECT_EQ(
        value_of(parsed, "ephport_local_address_connect_free_new_destination_min_ports", labels),
        a.connect_free_new_destination_min);
    EXPECT_EQ(
        value_of(parsed, "ephport_local_address_connect_free_new_destination_max_ports", labels),
        a.connect_free_new_destination_max);
  }
  // Each HELP says these are the bounds of an estimate.
  const std::string text = render_prometheus(&analysis, good_scrape(), {});
  for (const char* family :
       {"ephport_bind_owned_min_ports", "ephport_bind_owned_max_ports",
        "ephport_destination_connect_free_min_ports", "ephport_destination_connect_free_max_ports",
        "ephport_local_address_connect_free_new_destination_min_ports",
        "ephport_local_address_connect_free_new_destination_max_ports"}) {
    const size_t help = text.find(std::string("# HELP ") + family + " ");
    ASSERT_NE(help, std::string::npos) << family;
    EXPECT_NE(text.substr(help, text.find('\n', help) - help).find("bound of the estimate"),
              std::string::npos)
        << family;
  }

  analysis.bind_state = BindState::exact;
  Parsed exact = parse_exposition(render_prometheus(&analysis, good_scrape(), {}));
  EXPECT_EQ(value_of(exact, "ephport_bind_state_exact"), 1.0);
  for (const auto& [family, type] : exact.types) {
    EXPECT_EQ(family.find("_min_"), std::string::npos) << family;
    EXPECT_EQ(family.find("_max_ports"), std::string::npos) << family;
  }
}

// bind_free's bounds (a guessed V6ONLY) for both protocols, only when the
// bind state is estimated.
TEST(Prometheus, EstimatedBindFreeHasItsBounds) {
  Analysis analysis = fixture_analysis();
  ASSERT_EQ(analysis.bind_state, BindState::estimated);
  ASSERT_TRUE(analysis.has_udp);
  for (ProtocolAnalysis* p : {&analysis.tcp, &analysis.udp}) {
    ASSERT_FALSE(p->addresses.empty());
    p->addresses.front().bind_free_min = p->addresses.front().bind_free - 1;
  }
  Parsed parsed = parse_exposition(render_prometheus(&analysis, good_scrape(), {}));
  for (const ProtocolAnalysis* p : {&analysis.tcp, &analysis.udp}) {
    for (const AddressRow& a : p->addresses) {
      const std::string labels = std::string(R"(protocol=")") +
                                 (p == &analysis.tcp ? "tcp" : "udp") + R"(",address=")" +
                                 a.address.str() + "\"";
      EXPECT_EQ(value_of(parsed, "ephport_local_address_bind_free_min_ports", labels),
                a.bind_free_min)
          << labels;
      EXPECT_EQ(value_of(parsed, "ephport_local_address_bind_free_max_ports", labels),
                a.bind_free_max)
          << labels;
    }
  }
  analysis.bind_state = BindState::exact;
  Parsed exact = parse_exposition(render_prometheus(&analysis, good_scrape(), {}));
  EXPECT_FALSE(value_of(
      exact, "ephport_local_address_bind_free_min_ports",
      R"(protocol="tcp",address=")" + analysis.tcp.addresses.front().address.str() + "\""));
}

TEST(Prometheus, ForecastWhenThereIsOne) {
  Analysis analysis = fixture_analysis();
  analysis.tcp.pressure_forecast.exhausts_in_seconds = 42.5;
  Parsed parsed = parse_exposition(render_prometheus(&analysis, good_scrape(), {}));
  EXPECT_EQ(value_of(parsed, "ephport_exhausts_in_seconds", R"(protocol="tcp")"), 42.5);
  EXPECT_FALSE(value_of(parsed, "ephport_exhausts_in_seconds", R"(protocol="udp")"));
}

TEST(Prometheus, FailedCollectionKeepsTheScrapeFamiliesOnly) {
  ScrapeFacts facts;
  facts.success = false;
  facts.collections_total = 2;
  facts.collection_failures_total = 1;
  Parsed parsed = parse_exposition(render_prometheus(nullptr, facts, {}));
  EXPECT_EQ(value_of(parsed, "ephport_scrape_success"), 0.0);
  EXPECT_EQ(value_of(parsed, "ephport_collection_failures_total"), 1.0);
  EXPECT_EQ(parsed.types.count("ephport_pressure_ratio"), 0u);
  EXPECT_EQ(parsed.types.count("ephport_collection_duration_seconds"), 0u);
}

TEST(Prometheus, LabelValuesAreEscaped) {
  EXPECT_EQ(escape_label_value("a\"b\\c\nd"), "a\\\"b\\\\c\\nd");
  EXPECT_EQ(escape_label_value("fe80::1"), "fe80::1");
}

// `addresses` local addresses 10.1.x.y, each with `per_address` connections
// to destinations of their own (10.2.x.y:443): addresses * per_address
// destinations. Address i holds i % 7 + per_address ports, so they differ.
Analysis crowd(int addresses, int per_address, size_t top) {
  HostFacts host;
  host.computer = "crowd";
  host.set_range({32768, 60999});
  Aggregator aggregator(host, nullptr);
  SocketRecord socket;
  socket.state = SockState::established;
  socket.remote_port = 443;
  int destination = 0;
  for (int a = 0; a < addresses; ++a) {
    std::string local = "10.1." + std::to_string(a / 250) + "." + std::to_string(a % 250 + 1);
    socket.local = *Address::parse(local);
    int sockets = per_address + a % 7;
    for (int s = 0; s < sockets; ++s, ++destination) {
      // A destination of its own for the first per_address sockets, then the
      // extra ones go to the address's first destination: usages differ.
      int remote = s < per_address ? destination : destination - s;
      socket.remote = *Address::parse("10.2." + std::to_string(remote / 250) + "." +
                                      std::to_string(remote % 250 + 1));
      socket.local_port = static_cast<uint16_t>(33000 + s);
      aggregator.add(socket);
    }
  }
  return aggregator.finish(top);
}

TEST(Prometheus, TopDestinationsListedTheRestFolded) {
  Analysis analysis = crowd(10, 5, 0);  // 50 destinations, all listed in the analysis
  MetricsOptions options;
  options.top_destinations = 4;
  Parsed parsed = parse_exposition(render_prometheus(&analysis, good_scrape(), options));
  EXPECT_EQ(series_of(parsed, "ephport_destination_usage_ratio"), 4u);
  EXPECT_EQ(value_of(parsed, "ephport_destinations", R"(protocol="tcp")"), 50.0);
  EXPECT_EQ(value_of(parsed, "ephport_destinations_folded", R"(protocol="tcp")"), 46.0);
  // The listed ones are the worst; the folded maximum is the fifth worst.
  double fifth = analysis.tcp.destinations[4].usage_percent / 100;
  EXPECT_DOUBLE_EQ(
      *value_of(parsed, "ephport_destination_folded_max_usage_ratio", R"(protocol="tcp")"), fifth);
  for (const Sample& sample : parsed.samples) {
    if (sample.name == "ephport_destination_usage_ratio") {
      EXPECT_GE(std::stod(sample.value), fifth) << sample.labels;
    }
  }
}

TEST(Prometheus, FoldedMaximumLeftOutWhenTheAnalysisWasCutShort) {
  Analysis analysis = crowd(10, 5, 4);  // only 4 destinations kept
  MetricsOptions options;
  options.top_destinations = 4;
  Parsed parsed = parse_exposition(render_prometheus(&analysis, good_scrape(), options));
  EXPECT_EQ(value_of(parsed, "ephport_destinations_folded", R"(protocol="tcp")"), 46.0);
  EXPECT_FALSE(value_of(parsed, "ephport_destination_folded_max_usage_ratio", R"(protocol="tcp")"));
}

TEST(Prometheus, TopAddressesListedBusiestFirstTheRestFolded) {
  Analysis analysis = crowd(30, 2, 0);
  MetricsOptions options;
  options.top_addresses = 5;
  Parsed parsed = parse_exposition(render_prometheus(&analysis, good_scrape(), options));
  // Five specific addresses, and the wildcard rows, which always have series.
  EXPECT_EQ(series_of(parsed, "ephport_local_address_ports_in_use"), 7u);
  EXPECT_TRUE(value_of(parsed, "ephport_local_address_ports_in_use",
                       R"(protocol="tcp",address="0.0.0.0")"));
  EXPECT_TRUE(
      value_of(parsed, "ephport_local_address_ports_in_use", R"(protocol="tcp",address="::")"));
  // Busiest hold 2 + 6 ports (a % 7 == 6): 10.1.0.7, .14, .21, .28, then 7-port ones.
  EXPECT_EQ(value_of(parsed, "ephport_local_address_ports_in_use",
                     R"(protocol="tcp",address="10.1.0.7")"),
            8.0);
  EXPECT_EQ(value_of(parsed, "ephport_local_address_ports_in_use",
                     R"(protocol="tcp",address="10.1.0.6")"),
            7.0);
  EXPECT_FALSE(value_of(parsed, "ephport_local_address_ports_in_use",
                        R"(protocol="tcp",address="10.1.0.1")"))
      << "2 ports: folded";
  EXPECT_EQ(value_of(parsed, "ephport_local_addresses", R"(protocol="tcp")"), 30.0);
  EXPECT_EQ(value_of(parsed, "ephport_local_addresses_folded", R"(protocol="tcp")"), 25.0);
  // The busiest folded one has 7 ports of 28232.
  EXPECT_DOUBLE_EQ(
      *value_of(parsed, "ephport_local_address_folded_max_usage_ratio", R"(protocol="tcp")"),
      analysis.tcp.addresses[5].usage_percent / 100);
}

// The wildcard rows' socket series count the sockets behind their
// ports_in_use: TIME_WAIT sockets on specific addresses hold ports that
// bind(0.0.0.0:0) must avoid (issue #11: they showed 0 beside 2 ports).
TEST(Prometheus, WildcardRowSocketsAreTheOnesHoldingItsPorts) {
  HostFacts host = testing::small_host();
  Aggregator aggregator(host, nullptr);
  for (uint16_t port : {40000, 40001}) {
    aggregator.add(testing::socket_of(Protocol::tcp, SockState::time_wait, "127.0.0.2", port,
                                      "127.0.0.1", 8080));
  }
  Analysis analysis = aggregator.finish(0);
  Parsed parsed = parse_exposition(render_prometheus(&analysis, good_scrape(), {}));
  for (const char* address : {"0.0.0.0", "::", "127.0.0.2"}) {
    SCOPED_TRACE(address);
    std::string labels = std::string(R"(protocol="tcp",address=")") + address + "\"";
    EXPECT_EQ(value_of(parsed, "ephport_local_address_ports_in_use", labels), 2.0);
    EXPECT_EQ(value_of(parsed, "ephport_local_address_time_wait_sockets", labels), 2.0);
    EXPECT_EQ(value_of(parsed, "ephport_local_address_sockets", labels), 2.0);
  }
}

// 10 000 destinations over 400 addresses: the series count stays what the
// options allow, whatever the population.
TEST(Prometheus, SeriesCountIsBoundedWhateverThePopulation) {
  MetricsOptions options;  // 20 and 20
  Analysis big = crowd(400, 25, 21);
  ASSERT_EQ(big.tcp.destination_count, 10000u);
  Parsed parsed = parse_exposition(render_prometheus(&big, good_scrape(), options));
  EXPECT_EQ(series_of(parsed, "ephport_destination_usage_ratio"), 20u);
  EXPECT_EQ(series_of(parsed, "ephport_local_address_ports_in_use"), 22u) << "20 and 2 wildcards";
  // Per protocol: 4 destination families x 20, 7 address families x 20 (one
  // TCP-only), 13 TCP + 2 UDP states, and a few dozen single series; the
  // bind state is estimated, so TCP adds the bounds of connect_free (2 x 20)
  // and of connect_free_new_destination (2 x 22), each protocol those of
  // bind_free (2 x 22): docs/metrics.md's 668 at most.
  EXPECT_LE(parsed.samples.size(), 668u);
  Analysis tiny = crowd(2, 2, 21);
  size_t tiny_count =
      parse_exposition(render_prometheus(&tiny, good_scrape(), options)).samples.size();
  EXPECT_LE(parsed.samples.size() - tiny_count, 20u * (4 + 2) + 20u * (7 + 2 + 2));
}

// Family -> {type, label-name sets of its samples}, from any exposition
// (label order and HELP texts do not matter).
struct FamilyShape {
  std::string type;
  std::set<std::set<std::string>> label_sets;
};

std::map<std::string, FamilyShape> shapes(const std::string& text) {
  static const std::regex kType(R"(^# TYPE (\S+) (\S+)$)");
  static const std::regex kLabel(R"(([a-z_]+)="(?:[^"\\]|\\.)*")");
  std::map<std::string, FamilyShape> families;
  std::istringstream in(text);
  std::string line;
  std::smatch match;
  while (std::getline(in, line)) {
    if (std::regex_match(line, match, kType)) {
      families[match[1]].type = match[2];
    } else if (!line.empty() && line[0] != '#') {
      std::string name = line.substr(0, line.find_first_of("{ "));
      std::set<std::string> labels;
      size_t open = line.find('{');
      if (open != std::string::npos) {
        std::string body = line.substr(open, line.rfind('}') - open);
        for (auto it = std::sregex_iterator(body.begin(), body.end(), kLabel);
             it != std::sregex_iterator(); ++it) {
          labels.insert((*it)[1]);
        }
      }
      families[name].label_sets.insert(labels);
    }
  }
  return families;
}

// deploy/ (dashboard, rules) is checked against a hand-written exposition
// (tests/unit/deploy_metrics_test.cpp): each of its families must be one the
// exporter really writes, with the same type and label names.
TEST(Prometheus, DeployFixtureFamiliesAreExported) {
  Analysis analysis = fixture_analysis();
  analysis.tcp.pressure_forecast.exhausts_in_seconds = 5400;
  auto real = shapes(render_prometheus(&analysis, good_scrape(), {}));
  auto fixture = shapes(testing::read_file(fixture_path("metrics/ephport.prom")));
  ASSERT_FALSE(fixture.empty());
  for (const auto& [family, shape] : fixture) {
    SCOPED_TRACE(family);
    auto found = real.find(family);
    ASSERT_NE(found, real.end()) << "not exported by ephport serve";
    EXPECT_EQ(found->second.type, shape.type);
    for (const auto& labels : shape.label_sets) {
      EXPECT_EQ(found->second.label_sets.count(labels), 1u)
          << "label names differ from the exporter's";
    }
  }
}

}  // namespace
}  // namespace ephport
