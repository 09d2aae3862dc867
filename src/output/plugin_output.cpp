#include "output/plugin_output.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

namespace ephport {

namespace {
// The status line names the product, as plugins do ("DISK OK - ...").
constexpr std::string_view kServiceName = "EPHPORT";

// Status text must stay on one line and must not contain the perfdata bar.
std::string one_line(std::string_view text) {
  std::string line(text);
  std::replace(line.begin(), line.end(), '\n', ' ');
  std::replace(line.begin(), line.end(), '\r', ' ');
  std::replace(line.begin(), line.end(), '|', '/');
  return line;
}

std::string endpoint(const Address& address, uint16_t port) {
  return address.is_v6() ? fmt::format("[{}]:{}", address.str(), port)
                         : fmt::format("{}:{}", address.str(), port);
}

// Where a row is: "10.0.0.1 -> 10.0.0.2:443", "bind on 10.0.0.1",
// "bind on [::]", "new destinations".
std::string row_place(const CheckRow& row) {
  switch (row.kind) {
    case CheckRow::Kind::destination:
      return fmt::format("{} -> {}", row.local_address.str(),
                         endpoint(row.remote_address, row.remote_port));
    case CheckRow::Kind::address:  // brackets: a ':' follows on the line
      return row.local_address.is_v6() ? "bind on [" + row.local_address.str() + "]"
                                       : "bind on " + row.local_address.str();
    case CheckRow::Kind::new_destination:
      break;
  }
  return "new destinations";
}

// The part of the status line for one protocol; `detailed` adds the row
// that decides the figure.
std::string status_part(const CheckResult& result, const ProtocolCheck& check, bool detailed) {
  const std::string_view proto = protocol_name(check.protocol);
  const CheckRow* row = check.worst.empty() ? nullptr : &check.worst.front();
  // In parentheses: "estimated worst case" on the status line itself (not
  // only with -v) when the figure is an estimate's worst case (bind_free
  // does not depend on the bind state, only on guessed V6ONLY), then the row
  // that decides it.
  std::vector<std::string> notes;
  const bool bind_free = result.metric == CheckMetric::bind_free;
  if ((check.worst_case && check.protocol == Protocol::tcp && !bind_free) ||
      (bind_free && check.bind_free_worst_case)) {
    notes.emplace_back("estimated worst case");
  }
  std::string part;
  if (result.metric == CheckMetric::pressure) {
    part = fmt::format("{} pressure {}%", proto, perfdata_number(check.value));
    if (detailed && row != nullptr && row->usage_percent > 0) {
      notes.push_back(fmt::format("{}: {} of {} left", row_place(*row), row->free, check.capacity));
    }
  } else {
    part = fmt::format("{} {} {} of {}", proto, check_metric_name(result.metric),
                       perfdata_number(check.value), check.capacity);
    if (detailed && row != nullptr) {
      notes.push_back(row_place(*row));
    }
  }
  if (!notes.empty()) {
    part += fmt::format(" ({})", fmt::join(notes, "; "));
  }
  return part;
}

// 'label'=value[uom];[warn];[crit];[min];[max]
void add_perfdata(std::string& out, std::string_view label, double value, std::string_view uom,
                  const Thresholds* thresholds, std::string_view max) {
  std::string warning;
  std::string critical;
  if (thresholds != nullptr) {
    warning = thresholds->warning ? thresholds->warning->text() : "";
    critical = thresholds->critical ? thresholds->critical->text() : "";
  }
  if (!out.empty()) {
    out += ' ';
  }
  out += fmt::format("{}={}{};{};{};0", perfdata_label(label), perfdata_number(value), uom, warning,
                     critical);
  if (!max.empty()) {
    out += ';';
    out += max;
  }
}

std::string perfdata(const CheckResult& result) {
  std::string out;
  for (const ProtocolCheck& check : result.protocols) {
    const std::string proto(protocol_name(check.protocol));
    const std::string capacity = std::to_string(check.capacity);
    auto thresholds_for = [&](CheckMetric metric) {
      return check.checked && result.metric == metric ? &check.thresholds : nullptr;
    };
    add_perfdata(out, proto + "_pressure", check.pressure_percent, "%",
                 thresholds_for(CheckMetric::pressure), "100");
    add_perfdata(out, proto + "_in_use", check.in_use, "", nullptr, capacity);
    add_perfdata(out, proto + "_bind_free", check.bind_free, "",
                 thresholds_for(CheckMetric::bind_free), capacity);
    if (check.connect_free) {
      add_perfdata(out, proto + "_connect_free", *check.connect_free, "",
                   thresholds_for(CheckMetric::connect_free), capacity);
    }
    add_perfdata(out, proto + "_sockets", static_cast<double>(check.sockets), "", nullptr, "");
    if (check.protocol == Protocol::tcp) {
      add_perfdata(out, proto + "_time_wait", check.time_wait, "", nullptr, "");
    }
  }
  return out;
}

std::string verbose_lines(const CheckResult& result, int verbosity) {
  const size_t limit = verbosity >= 3 ? SIZE_MAX : verbosity == 2 ? 20 : 5;
  std::string out;
  for (const ProtocolCheck& check : result.protocols) {
    const std::string_view proto = protocol_name(check.protocol);
    out += fmt::format("{}: range {}-{}, capacity {}, sockets {}, destinations {}, {} {}", proto,
                       check.range.first, check.range.last, check.capacity, check.sockets,
                       check.destination_count, check_metric_name(result.metric),
                       check.checked ? plugin_state_name(check.state) : "not checked");
    if (check.protocol == Protocol::tcp) {
      out += fmt::format(", bind state {}", bind_state_name(result.bind_state));
      if (!result.bind_state_note.empty()) {
        out += " (" + one_line(result.bind_state_note) + ")";
      }
    }
    out += '\n';
    const size_t shown = std::min(limit, check.worst.size());
    for (size_t i = 0; i < shown; ++i) {
      const CheckRow& row = check.worst[i];
      std::string_view unit = row.kind == CheckRow::Kind::destination ? "sockets"
                              : row.kind == CheckRow::Kind::address   ? "ports in use"
                                                                      : "ports bind()-owned";
      out +=
          fmt::format("  {} {}: {} of {} left ({}% used, {} {})\n", proto, row_place(row), row.free,
                      check.capacity, perfdata_number(row.usage_percent), row.in_use, unit);
    }
    if (shown < check.worst.size()) {
      out += fmt::format("  {} ... {} more rows (-vvv shows all)\n", proto,
                         check.worst.size() - shown);
    }
  }
  return out;
}

}  // namespace

std::string render_plugin_output(const CheckResult& result, int verbosity) {
  // The protocols that decide the state come first; TCP before UDP otherwise.
  std::vector<const ProtocolCheck*> order;
  for (const ProtocolCheck& check : result.protocols) {
    if (check.checked) {
      order.push_back(&check);
    }
  }
  std::stable_sort(order.begin(), order.end(), [](const ProtocolCheck* a, const ProtocolCheck* b) {
    return a->state != b->state && worse(a->state, b->state) == a->state;
  });
  std::string text;
  for (size_t i = 0; i < order.size(); ++i) {
    if (i != 0) {
      text += ", ";
    }
    text += status_part(result, *order[i], i == 0 || order[i]->state != PluginState::ok);
  }
  if (!result.netns.empty()) {
    text = "netns " + result.netns + ": " + text;
  }
  std::string out = fmt::format("{} {} - {} | {}\n", kServiceName, plugin_state_name(result.state),
                                one_line(text), perfdata(result));
  if (verbosity > 0) {
    out += verbose_lines(result, verbosity);
  }
  return out;
}

std::string render_plugin_unknown(std::string_view reason) {
  return fmt::format("{} {} - {}\n", kServiceName, plugin_state_name(PluginState::unknown),
                     one_line(reason));
}

std::string perfdata_label(std::string_view label) {
  std::string quoted = "'";
  for (char c : label) {
    quoted += c;
    if (c == '\'') {
      quoted += '\'';
    }
  }
  return quoted + "'";
}

std::string perfdata_number(double value) {
  std::string text = fmt::format("{:.2f}", std::round(value * 100.0) / 100.0);
  text.erase(text.find_last_not_of('0') + 1);
  if (text.back() == '.') {
    text.pop_back();
  }
  return text == "-0" ? "0" : text;
}

}  // namespace ephport
