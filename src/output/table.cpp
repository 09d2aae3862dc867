#include "output/table.h"

#include <fmt/format.h>

#include <algorithm>
#include <optional>
#include <vector>

namespace ephport {

namespace {

// Each column's width under `headers`: its widest cell.
std::vector<size_t> column_widths(const Sheet& sheet, const Cells& headers) {
  std::vector<size_t> widths(headers.size());
  for (size_t i = 0; i < headers.size(); ++i) {
    widths[i] = headers[i].size();
    for (const Cells& row : sheet.rows) {
      widths[i] = std::max(widths[i], row[i].size());
    }
  }
  return widths;
}

// The width of a line of the `shown` columns, one space between them.
size_t line_width(const std::vector<size_t>& widths, const std::vector<bool>& shown) {
  size_t total = 0;
  size_t count = 0;
  for (size_t i = 0; i < widths.size(); ++i) {
    if (shown[i]) {
      total += widths[i];
      ++count;
    }
  }
  return count == 0 ? 0 : total + count - 1;
}

// The shown column of the highest rank above 0 (the rightmost of a tie), or
// none.
std::optional<size_t> next_to_drop(const std::vector<Column>& columns,
                                   const std::vector<bool>& shown) {
  std::optional<size_t> drop;
  for (size_t i = 0; i < columns.size(); ++i) {
    if (shown[i] && columns[i].drop_rank > 0 &&
        (!drop || columns[i].drop_rank >= columns[*drop].drop_rank)) {
      drop = i;
    }
  }
  return drop;
}

}  // namespace

std::string render_table(const Sheet& unescaped, size_t width, bool* narrowed) {
  // Outside text is escaped where it enters; this is the last stop before
  // the terminal, so a cell that missed it still cannot break the table.
  Sheet escaped;
  const Sheet& sheet = with_escaped_cells(unescaped, escaped);
  const std::vector<Column>& columns = sheet.columns;
  Cells headers = sheet.headers();
  std::vector<size_t> widths = column_widths(sheet, headers);
  std::vector<bool> shown(columns.size(), true);
  if (width != 0 && line_width(widths, shown) > width) {
    for (size_t i = 0; i < columns.size(); ++i) {
      if (!columns[i].short_header.empty()) {
        headers[i] = columns[i].short_header;
      }
    }
    widths = column_widths(sheet, headers);
    while (line_width(widths, shown) > width) {
      std::optional<size_t> drop = next_to_drop(columns, shown);
      if (!drop) {
        break;  // only columns that always stay: wider than the terminal
      }
      shown[*drop] = false;
    }
    if (narrowed != nullptr) {
      *narrowed = true;
    }
  }
  std::string out;
  auto line = [&](const Cells& cells) {
    std::string text;
    bool first = true;
    for (size_t i = 0; i < cells.size(); ++i) {
      if (!shown[i]) {
        continue;
      }
      if (!first) {
        text += ' ';
      }
      first = false;
      text += columns[i].align == Align::right ? fmt::format("{:>{}}", cells[i], widths[i])
                                               : fmt::format("{:<{}}", cells[i], widths[i]);
    }
    while (!text.empty() && text.back() == ' ') {
      text.pop_back();
    }
    out += text;
    out += '\n';
  };
  line(headers);
  Cells rule;
  for (const std::string& header : headers) {
    rule.push_back(std::string(header.size(), '-'));
  }
  line(rule);
  for (const Cells& row : sheet.rows) {
    line(row);
  }
  return out;
}

std::string narrowed_note(size_t width) {
  return fmt::format("note: columns shortened or hidden to fit {} columns; --wide shows all\n",
                     width);
}

}  // namespace ephport
