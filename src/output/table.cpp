#include "output/table.h"

#include <fmt/format.h>

#include <algorithm>

namespace ephport {

std::string render_table(const Sheet& sheet) {
  const std::vector<Column>& columns = sheet.columns;
  std::vector<size_t> widths(columns.size());
  for (size_t i = 0; i < columns.size(); ++i) {
    widths[i] = columns[i].header.size();
    for (const Cells& row : sheet.rows) {
      widths[i] = std::max(widths[i], row[i].size());
    }
  }
  std::string out;
  auto line = [&](const Cells& cells) {
    std::string text;
    for (size_t i = 0; i < cells.size(); ++i) {
      if (i != 0) {
        text += ' ';
      }
      text += columns[i].align == Align::right ? fmt::format("{:>{}}", cells[i], widths[i])
                                               : fmt::format("{:<{}}", cells[i], widths[i]);
    }
    while (!text.empty() && text.back() == ' ') {
      text.pop_back();
    }
    out += text;
    out += '\n';
  };
  line(sheet.headers());
  Cells rule;
  for (const Column& column : columns) {
    rule.push_back(std::string(column.header.size(), '-'));
  }
  line(rule);
  for (const Cells& row : sheet.rows) {
    line(row);
  }
  return out;
}

}  // namespace ephport
