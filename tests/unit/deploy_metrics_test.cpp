// The deploy/ files name only metrics ephport exports: every PromQL
// expression of the Grafana dashboard (panel targets and template
// variables) and of the alerting rules, against the metric families of an
// exposition. The exposition is tests/fixtures/metrics/ephport.prom, written
// by hand with the families `ephport serve` implements (its README); it is
// to be replaced by the real output. ephport_connect_failures_total comes
// with the tracer, which does not exist yet: the rules may name it.

#include <gtest/gtest.h>

#include <fstream>
#include <functional>
#include <nlohmann/json.hpp>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "collect_fixtures.h"

namespace ephport {
namespace {

using testing::fixture_path;

const std::set<std::string> kFutureMetrics = {"ephport_connect_failures_total"};

std::string read_text(const std::string& path) {
  std::ifstream in(path);
  EXPECT_TRUE(in) << "cannot read " << path;
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

std::string deploy_path(const std::string& name) {
  return std::string(EPHPORT_DEPLOY) + "/" + name;
}

// Every ephport_* name in a PromQL expression.
std::set<std::string> metric_names(const std::string& expr) {
  static const std::regex name(R"(\bephport_[a-z0-9_]+)");
  std::set<std::string> names;
  for (auto it = std::sregex_iterator(expr.begin(), expr.end(), name); it != std::sregex_iterator();
       ++it) {
    names.insert(it->str());
  }
  return names;
}

// The metric names of a text exposition: the families (# TYPE) and the
// sample names (for the suffixes of histograms and summaries).
std::set<std::string> exposition_names(const std::string& text) {
  std::set<std::string> names;
  std::istringstream lines(text);
  std::string line;
  while (std::getline(lines, line)) {
    if (line.rfind("# TYPE ", 0) == 0) {
      names.insert(line.substr(7, line.find(' ', 7) - 7));
    } else if (!line.empty() && line[0] != '#') {
      names.insert(line.substr(0, line.find_first_of("{ ")));
    }
  }
  return names;
}

const std::set<std::string>& exported() {
  static const std::set<std::string> names =
      exposition_names(read_text(fixture_path("metrics/ephport.prom")));
  return names;
}

// Every PromQL string of a dashboard: targets' expr (panels, rows' nested
// panels) and query variables' queries.
std::vector<std::string> dashboard_expressions(const nlohmann::json& dashboard) {
  std::vector<std::string> exprs;
  std::function<void(const nlohmann::json&)> panels = [&](const nlohmann::json& list) {
    for (const nlohmann::json& panel : list) {
      for (const nlohmann::json& target : panel.value("targets", nlohmann::json::array())) {
        if (target.contains("expr")) {
          exprs.push_back(target.at("expr").get<std::string>());
        }
      }
      panels(panel.value("panels", nlohmann::json::array()));
    }
  };
  panels(dashboard.at("panels"));
  for (const nlohmann::json& variable : dashboard.at("templating").at("list")) {
    if (variable.value("type", "") != "query") {
      continue;
    }
    const nlohmann::json& query = variable.at("query");
    exprs.push_back(query.is_string() ? query.get<std::string>()
                                      : query.at("query").get<std::string>());
  }
  return exprs;
}

// The `expr:` values of a rules file: inline, or a block scalar (| or >)
// whose lines are indented deeper than the key. Our file's own layout; a
// check that finds no expression fails below.
std::vector<std::string> rule_expressions(const std::string& yaml) {
  std::vector<std::string> exprs;
  std::istringstream in(yaml);
  std::string line;
  std::vector<std::string> lines;
  while (std::getline(in, line)) {
    lines.push_back(line);
  }
  for (size_t i = 0; i < lines.size(); ++i) {
    const size_t key = lines[i].find("expr:");
    if (key == std::string::npos || lines[i].find_first_not_of(' ') != key) {
      continue;
    }
    std::string value = lines[i].substr(key + 5);
    const bool block = value.find_first_of("|>") != std::string::npos &&
                       value.find_first_not_of(" |>-+") == std::string::npos;
    if (!block) {
      exprs.push_back(value);
      continue;
    }
    std::string text;
    while (i + 1 < lines.size() &&
           (lines[i + 1].empty() || lines[i + 1].find_first_not_of(' ') > key)) {
      text += lines[++i] + "\n";
    }
    exprs.push_back(text);
  }
  return exprs;
}

TEST(DeployMetrics, ExpositionFixtureHasTheFamiliesServeImplements) {
  for (const char* family :
       {"ephport_capacity_ports", "ephport_pressure_ratio", "ephport_local_address_ports_in_use",
        "ephport_local_address_bind_free_ports", "ephport_destination_usage_ratio",
        "ephport_destinations", "ephport_sockets", "ephport_exhausts_in_seconds",
        "ephport_scrape_duration_seconds", "ephport_scrape_success", "ephport_build_info"}) {
    EXPECT_TRUE(exported().count(family)) << family;
  }
}

TEST(DeployMetrics, DashboardNamesOnlyExportedMetrics) {
  const nlohmann::json dashboard =
      nlohmann::json::parse(read_text(deploy_path("grafana/ephport-dashboard.json")));
  EXPECT_GE(dashboard.at("schemaVersion").get<int>(), 36);
  const std::vector<std::string> exprs = dashboard_expressions(dashboard);
  ASSERT_GE(exprs.size(), 10U);
  std::set<std::string> used;
  for (const std::string& expr : exprs) {
    SCOPED_TRACE(expr);
    const std::set<std::string> names = metric_names(expr);
    // Prometheus' own `up` is the one other series a panel may show.
    EXPECT_TRUE(!names.empty() || expr.rfind("up{", 0) == 0) << "an expression with no metric";
    for (const std::string& name : names) {
      EXPECT_TRUE(exported().count(name)) << name << " is not exported";
      used.insert(name);
    }
  }
  // Every family has a panel.
  for (const std::string& name : exported()) {
    EXPECT_TRUE(used.count(name)) << name << " is on no panel";
  }
}

TEST(DeployMetrics, DashboardPanelsUseTheDatasourceVariable) {
  const nlohmann::json dashboard =
      nlohmann::json::parse(read_text(deploy_path("grafana/ephport-dashboard.json")));
  bool has_variable = false;
  for (const nlohmann::json& variable : dashboard.at("templating").at("list")) {
    has_variable = has_variable ||
                   (variable.at("name") == "DS_PROMETHEUS" && variable.at("type") == "datasource");
  }
  EXPECT_TRUE(has_variable);
  for (const nlohmann::json& panel : dashboard.at("panels")) {
    if (panel.at("type") == "row") {
      continue;
    }
    SCOPED_TRACE(panel.at("title").get<std::string>());
    EXPECT_EQ(panel.at("datasource").at("uid"), "${DS_PROMETHEUS}");
    for (const nlohmann::json& target : panel.at("targets")) {
      EXPECT_EQ(target.at("datasource").at("uid"), "${DS_PROMETHEUS}");
    }
  }
}

TEST(DeployMetrics, AlertRulesNameOnlyExportedOrFutureMetrics) {
  const std::string rules = read_text(deploy_path("prometheus/ephport-rules.yml"));
  const std::vector<std::string> exprs = rule_expressions(rules);
  size_t alerts = 0;
  for (size_t at = rules.find("- alert:"); at != std::string::npos;
       at = rules.find("- alert:", at + 1)) {
    ++alerts;
  }
  ASSERT_GE(alerts, 7U);
  ASSERT_EQ(exprs.size(), alerts) << "every alert has one expr";
  for (const std::string& expr : exprs) {
    SCOPED_TRACE(expr);
    for (const std::string& name : metric_names(expr)) {
      EXPECT_TRUE(exported().count(name) || kFutureMetrics.count(name))
          << name << " is neither exported nor a known future metric";
    }
  }
}

TEST(DeployMetrics, CheckerCatchesAnUnknownName) {
  EXPECT_EQ(metric_names("sum(rate(ephport_foo_total[5m])) / ephport_sockets{state=\"x\"}"),
            (std::set<std::string>{"ephport_foo_total", "ephport_sockets"}));
  EXPECT_FALSE(exported().count("ephport_foo_total"));
  EXPECT_EQ(rule_expressions("  - alert: A\n    expr: |\n      ephport_a\n      > 1\n    for: 1m\n"
                             "  - alert: B\n    expr: up == 0\n"),
            (std::vector<std::string>{"      ephport_a\n      > 1\n", " up == 0"}));
}

}  // namespace
}  // namespace ephport
