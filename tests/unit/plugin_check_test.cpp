// `ephport check` on the captured fixture namespace (tests/fixtures/proc,
// the same moment as golden/procfs-snapshot.json): the figures it picks,
// the states the thresholds give, the status line and the perfdata, and
// the same on hand-made analyses for the cases the fixture lacks.

#include "analyze/plugin_check.h"

#include <gtest/gtest.h>

#include <string>

#include "collect_fixtures.h"
#include "output/plugin_output.h"
#include "pipeline/sample.h"
#include "util/error.h"

namespace ephport {
namespace {

using testing::fixture_path;

// The fixture, as golden/procfs-snapshot.json shows it: TCP capacity 96,
// pressure 7.29 (the wildcard rows: 7 ports, 89 bind_free), destinations'
// least connect_free 91 (127.0.0.1 -> 127.0.0.1:5000), 18 sockets, 2
// TIME_WAIT; UDP pressure 2.08, bind_free 94, 5 sockets. Its bind state is
// estimated (/proc/net): check takes the worst case, every destination's
// connect_free_min 89 (7 connection ports that bind() may have taken).
const Analysis& fixture() {
  static const Analysis analysis = [] {
    SampleOptions options;
    options.linux_options.source = Source::procfs;
    options.linux_options.proc_root = fixture_path("proc");
    options.top = 0;
    options.linux_options.bind_state = LinuxOptions::BindState::estimate;
    return take_sample(options, nullptr);
  }();
  return analysis;
}

CheckSpec spec(CheckMetric metric, const std::string& warning = "",
               const std::string& critical = "") {
  CheckSpec out;
  out.metric = metric;
  if (!warning.empty()) {
    out.warning = PluginRange::parse(warning, "-w");
  }
  if (!critical.empty()) {
    out.critical = PluginRange::parse(critical, "-c");
  }
  return out;
}

// The status line without perfdata, and the perfdata.
std::string status_of(const std::string& output) {
  return output.substr(0, output.find(" | "));
}
std::string perfdata_of(const std::string& output) {
  const size_t bar = output.find(" | ");
  return output.substr(bar + 3, output.find('\n') - bar - 3);
}

TEST(PluginCheck, FixtureFiguresMatchTheSnapshot) {
  CheckResult result = evaluate_check(fixture(), spec(CheckMetric::pressure));
  ASSERT_EQ(result.protocols.size(), 2U);
  const ProtocolCheck& tcp = result.protocols[0];
  EXPECT_EQ(tcp.protocol, Protocol::tcp);
  EXPECT_EQ(tcp.capacity, 96U);
  EXPECT_DOUBLE_EQ(tcp.pressure_percent, 7.29);
  EXPECT_EQ(tcp.in_use, 7U);
  EXPECT_EQ(tcp.bind_free, 89U);
  EXPECT_EQ(tcp.connect_free, 89U);  // the worst case of the estimate (91)
  EXPECT_TRUE(tcp.worst_case);
  EXPECT_EQ(tcp.sockets, 18U);
  EXPECT_EQ(tcp.time_wait, 2U);
  EXPECT_EQ(tcp.destination_count, 4U);
  const ProtocolCheck& udp = result.protocols[1];
  EXPECT_EQ(udp.protocol, Protocol::udp);
  EXPECT_DOUBLE_EQ(udp.pressure_percent, 2.08);
  EXPECT_EQ(udp.in_use, 2U);
  EXPECT_EQ(udp.bind_free, 94U);
  EXPECT_FALSE(udp.connect_free);
  EXPECT_EQ(udp.sockets, 5U);
  EXPECT_EQ(result.state, PluginState::ok);
  EXPECT_EQ(bind_state_name(result.bind_state), "estimated");
}

TEST(PluginCheck, FixtureOutputWithDefaults) {
  CheckResult result = evaluate_check(fixture(), spec(CheckMetric::pressure));
  EXPECT_EQ(render_plugin_output(result, 0),
            "EPHPORT OK - tcp pressure 7.29% (estimated worst case; 127.0.0.1 -> "
            "127.0.0.1:5000: 89 of 96 left), udp pressure "
            "2.08% | 'tcp_pressure'=7.29%;80;95;0;100 'tcp_in_use'=7;;;0;96 "
            "'tcp_bind_free'=89;;;0;96 'tcp_connect_free'=89;;;0;96 'tcp_sockets'=18;;;0 "
            "'tcp_time_wait'=2;;;0 'udp_pressure'=2.08%;80;95;0;100 'udp_in_use'=2;;;0;96 "
            "'udp_bind_free'=94;;;0;96 'udp_sockets'=5;;;0\n");
}

TEST(PluginCheck, ThresholdsDecideTheStateAndTheOrder) {
  // TCP 7.29 > 7 is critical, UDP 2.08 > 2 a warning: TCP leads, both detailed.
  CheckResult result = evaluate_check(fixture(), spec(CheckMetric::pressure, "2", "7"));
  EXPECT_EQ(result.state, PluginState::critical);
  EXPECT_EQ(result.protocols[0].state, PluginState::critical);
  EXPECT_EQ(result.protocols[1].state, PluginState::warning);
  std::string output = render_plugin_output(result, 0);
  EXPECT_EQ(status_of(output),
            "EPHPORT CRITICAL - tcp pressure 7.29% (estimated worst case; 127.0.0.1 -> "
            "127.0.0.1:5000: 89 of 96 left), udp pressure 2.08% (bind on 127.0.0.1: 94 of 96 "
            "left)");
  EXPECT_NE(perfdata_of(output).find("'tcp_pressure'=7.29%;2;7;0;100"), std::string::npos);

  // Only UDP alerts: it comes first.
  result = evaluate_check(fixture(), spec(CheckMetric::pressure, "@2:3", "50"));
  EXPECT_EQ(result.state, PluginState::warning);
  EXPECT_EQ(status_of(render_plugin_output(result, 0)),
            "EPHPORT WARNING - udp pressure 2.08% (bind on 127.0.0.1: 94 of 96 left), tcp "
            "pressure 7.29% (estimated worst case)");
}

TEST(PluginCheck, BindFreeMetricWithDefaultAndGivenThresholds) {
  // Defaults: fewer than ceil(96 * 20%) = 20 / ceil(96 * 5%) = 5 free.
  CheckResult result = evaluate_check(fixture(), spec(CheckMetric::bind_free));
  EXPECT_EQ(result.state, PluginState::ok);
  std::string output = render_plugin_output(result, 0);
  EXPECT_EQ(status_of(output),
            "EPHPORT OK - tcp bind_free 89 of 96 (bind on 0.0.0.0), udp bind_free 94 of 96");
  EXPECT_NE(output.find("'tcp_pressure'=7.29%;;;0;100"), std::string::npos) << output;
  EXPECT_NE(output.find("'tcp_bind_free'=89;20:;5:;0;96"), std::string::npos) << output;
  EXPECT_NE(output.find("'udp_bind_free'=94;20:;5:;0;96"), std::string::npos) << output;

  result = evaluate_check(fixture(), spec(CheckMetric::bind_free, "95:", "90:"));
  EXPECT_EQ(result.protocols[0].state, PluginState::critical);  // 89 < 90
  EXPECT_EQ(result.protocols[1].state, PluginState::warning);   // 94 < 95
}

TEST(PluginCheck, ConnectFreeMetricIsTcpOnly) {
  CheckResult result = evaluate_check(fixture(), spec(CheckMetric::connect_free, "92:", "10:"));
  EXPECT_EQ(result.state, PluginState::warning);  // 89 (the estimate's worst case) < 92
  EXPECT_FALSE(result.protocols[1].checked);
  std::string output = render_plugin_output(result, 0);
  EXPECT_EQ(status_of(output),
            "EPHPORT WARNING - tcp connect_free 89 of 96 (estimated worst case; 127.0.0.1 -> "
            "127.0.0.1:5000)");
  EXPECT_NE(output.find("'tcp_connect_free'=89;92:;10:;0;96"), std::string::npos) << output;
  EXPECT_NE(output.find("'udp_bind_free'=94;;;0;96"), std::string::npos) << output;
}

TEST(PluginCheck, DefaultThresholdsMatchThePressureDefaults) {
  // A free count alerts exactly when the pressure it implies exceeds 80 / 95.
  for (uint32_t capacity : {1U, 7U, 96U, 100U, 16384U, 28232U, 64511U}) {
    SCOPED_TRACE(capacity);
    Thresholds free = default_thresholds(CheckMetric::bind_free, capacity);
    Thresholds pressure = default_thresholds(CheckMetric::pressure, capacity);
    for (uint32_t left = 0; left <= capacity; left += std::max(1U, capacity / 997)) {
      const double used = 100.0 * (capacity - left) / capacity;
      EXPECT_EQ(free.evaluate(left), pressure.evaluate(used)) << left << " left";
    }
  }
  EXPECT_EQ(default_thresholds(CheckMetric::connect_free, 28232).warning->text(), "5647:");
  EXPECT_EQ(default_thresholds(CheckMetric::connect_free, 28232).critical->text(), "1412:");
}

TEST(PluginCheck, VerboseListsTheWorstRows) {
  CheckResult result = evaluate_check(fixture(), spec(CheckMetric::pressure));
  std::string output = render_plugin_output(result, 1);
  EXPECT_EQ(output.substr(output.find('\n') + 1),
            "tcp: range 40000-40099, capacity 96, sockets 18, destinations 4, pressure OK, "
            "bind state estimated\n"
            "  tcp 127.0.0.1 -> 127.0.0.1:5000: 89 of 96 left (7.29% used, 5 sockets)\n"
            "  tcp 127.0.0.1 -> 127.0.0.1:7000: 89 of 96 left (7.29% used, 1 sockets)\n"
            "  tcp 127.0.0.2 -> 127.0.0.1:5000: 89 of 96 left (7.29% used, 1 sockets)\n"
            "  tcp ::1 -> [::1]:6000: 89 of 96 left (7.29% used, 1 sockets)\n"
            "  tcp bind on 0.0.0.0: 89 of 96 left (7.29% used, 7 ports in use)\n"
            "  tcp ... 4 more rows (-vvv shows all)\n"
            "udp: range 40000-40099, capacity 96, sockets 5, destinations 0, pressure OK\n"
            "  udp bind on 127.0.0.1: 94 of 96 left (2.08% used, 2 ports in use)\n"
            "  udp bind on 0.0.0.0: 94 of 96 left (2.08% used, 2 ports in use)\n"
            "  udp bind on [::]: 94 of 96 left (2.08% used, 2 ports in use)\n");
  EXPECT_EQ(render_plugin_output(result, 3).find("more rows"), std::string::npos);
}

TEST(PluginCheck, EmptyNamespaceIsOkWithoutDetail) {
  Analysis analysis;
  analysis.bind_state = BindState::exact;
  analysis.has_udp = false;
  analysis.tcp.capacity = 28232;
  analysis.tcp.range = {32768, 60999};
  CheckResult result = evaluate_check(analysis, spec(CheckMetric::pressure));
  EXPECT_EQ(render_plugin_output(result, 0),
            "EPHPORT OK - tcp pressure 0% | 'tcp_pressure'=0%;80;95;0;100 "
            "'tcp_in_use'=0;;;0;28232 'tcp_bind_free'=28232;;;0;28232 "
            "'tcp_connect_free'=28232;;;0;28232 'tcp_sockets'=0;;;0 'tcp_time_wait'=0;;;0\n");
}

TEST(PluginCheck, DestinationDecidesAndIpv6IsBracketed) {
  Analysis analysis;
  analysis.bind_state = BindState::exact;
  analysis.has_udp = false;
  analysis.host.netns = "blue";
  ProtocolAnalysis& tcp = analysis.tcp;
  tcp.capacity = 16384;
  tcp.range = {49152, 65535};
  tcp.pressure_percent = 100.0 * (16384 - 2950) / 16384;  // 81.99...
  AddressRow address;
  address.address = *Address::parse("2001:db8::1");
  address.ports_in_use = 13434;
  address.bind_free = 2950;
  address.usage_percent = tcp.pressure_percent;
  tcp.addresses.push_back(address);
  DestinationRow destination;
  destination.local_address = *Address::parse("2001:db8::1");
  destination.remote_address = *Address::parse("2001:db8::2");
  destination.remote_port = 443;
  destination.in_use = 13434;
  destination.connect_free = 2950;
  destination.usage_percent = tcp.pressure_percent;
  tcp.destinations.push_back(destination);
  tcp.destination_count = 1;
  CheckResult result = evaluate_check(analysis, spec(CheckMetric::pressure));
  EXPECT_EQ(result.state, PluginState::warning);
  EXPECT_EQ(status_of(render_plugin_output(result, 0)),
            "EPHPORT WARNING - netns blue: tcp pressure 81.99% (2001:db8::1 -> "
            "[2001:db8::2]:443: 2950 of 16384 left)");
}

// Issue #11: without BPF the figures are estimates, and an estimate must
// never say OK while the kernel may refuse: the check takes the worst case
// of every destination (connect_free_min), even one cut from the top N.
TEST(PluginCheck, EstimatedFiguresAlarmOnTheirWorstCase) {
  Analysis analysis;
  analysis.has_udp = false;
  ProtocolAnalysis& tcp = analysis.tcp;
  tcp.capacity = 200;
  tcp.range = {40000, 40199};
  tcp.bind_owned_ports = 0;
  tcp.bind_owned_ports_max = 150;
  tcp.pressure_percent = 75.0;
  tcp.pressure_percent_max = 96.0;
  tcp.least_connect_free_min = 8;
  DestinationRow destination;
  destination.local_address = *Address::parse("10.0.0.1");
  destination.remote_address = *Address::parse("10.0.0.2");
  destination.remote_port = 443;
  destination.in_use = 150;
  destination.connect_free = 50;
  destination.connect_free_min = 8;
  destination.connect_free_max = 50;
  destination.usage_percent = 75.0;
  tcp.destinations.push_back(destination);
  tcp.destination_count = 1;

  analysis.bind_state = BindState::exact;  // as if the point figures were exact: OK
  EXPECT_EQ(evaluate_check(analysis, spec(CheckMetric::connect_free)).state, PluginState::ok);

  analysis.bind_state = BindState::estimated;
  CheckResult result = evaluate_check(analysis, spec(CheckMetric::connect_free));
  EXPECT_EQ(result.state, PluginState::critical);  // 8 < ceil(200 * 5%) = 10
  EXPECT_EQ(status_of(render_plugin_output(result, 0)),
            "EPHPORT CRITICAL - tcp connect_free 8 of 200 (estimated worst case; 10.0.0.1 -> "
            "10.0.0.2:443)");
  result = evaluate_check(analysis, spec(CheckMetric::pressure));
  EXPECT_EQ(result.state, PluginState::critical);  // 96 > 95
  EXPECT_EQ(result.protocols[0].pressure_percent, 96.0);
}

// Where an IPv6 socket's V6ONLY is guessed, bind_free is an interval: check
// judges its low end and says so.
TEST(PluginCheck, BindFreeAlarmsOnTheWorstCaseOfAGuessedV6only) {
  Analysis analysis;
  analysis.has_udp = false;
  analysis.bind_state = BindState::exact;  // V6ONLY can be guessed all the same (UDP, races)
  ProtocolAnalysis& tcp = analysis.tcp;
  tcp.capacity = 100;
  tcp.range = {40000, 40099};
  AddressRow any4;  // the best guess 50 free, the kernel anywhere in [3, 60]
  any4.address = Address::any_v4();
  any4.bind_free = 50;
  any4.bind_free_min = 3;
  any4.bind_free_max = 60;
  tcp.addresses.push_back(any4);
  CheckResult result = evaluate_check(analysis, spec(CheckMetric::bind_free));
  EXPECT_EQ(result.state, PluginState::critical);  // 3 < ceil(100 * 5%) = 5
  EXPECT_EQ(result.protocols[0].bind_free, 3u);
  EXPECT_EQ(status_of(render_plugin_output(result, 0)),
            "EPHPORT CRITICAL - tcp bind_free 3 of 100 (estimated worst case; bind on 0.0.0.0)");
}

TEST(PluginCheck, ParseMetric) {
  EXPECT_EQ(parse_check_metric("pressure"), CheckMetric::pressure);
  EXPECT_EQ(parse_check_metric("bind_free"), CheckMetric::bind_free);
  EXPECT_EQ(parse_check_metric("connect_free"), CheckMetric::connect_free);
  EXPECT_THROW(parse_check_metric("free"), InputError);
}

TEST(PluginOutput, UnknownStaysOnOneLine) {
  EXPECT_EQ(render_plugin_unknown("netlink refused\nthe dump | twice"),
            "EPHPORT UNKNOWN - netlink refused the dump / twice\n");
}

TEST(PluginOutput, LabelsAreQuotedAndQuotesDoubled) {
  EXPECT_EQ(perfdata_label("tcp_pressure"), "'tcp_pressure'");
  EXPECT_EQ(perfdata_label("ns a=b"), "'ns a=b'");
  EXPECT_EQ(perfdata_label("it's"), "'it''s'");
}

TEST(PluginOutput, NumbersHaveNoExponentAndNoTrailingZeros) {
  EXPECT_EQ(perfdata_number(0), "0");
  EXPECT_EQ(perfdata_number(82), "82");
  EXPECT_EQ(perfdata_number(7.29), "7.29");
  EXPECT_EQ(perfdata_number(7.2), "7.2");
  EXPECT_EQ(perfdata_number(81.99951), "82");
  EXPECT_EQ(perfdata_number(0.001), "0");
  EXPECT_EQ(perfdata_number(-0.001), "0");
  EXPECT_EQ(perfdata_number(1e7), "10000000");
  EXPECT_EQ(perfdata_number(4294967295.0), "4294967295");
}

}  // namespace
}  // namespace ephport
