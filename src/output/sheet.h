#pragma once
// The value the table and CSV sinks render: a shape's columns and its rows
// of cell text. Each shape (addresses, destinations, processes, namespaces,
// fleet hosts) builds one; the sinks know nothing of the shapes.

#include <string>
#include <vector>

#include "util/escape.h"

namespace ephport {

using Cells = std::vector<std::string>;

// How the table pads a column; CSV ignores it.
enum class Align { left, right };

struct Column {
  std::string header;
  Align align = Align::left;
  // Fitting a narrow terminal (output/table.h): columns of the highest rank
  // are dropped first; 0 is never dropped. The seed script's columns rank
  // below ephport's, so they stay longest.
  int drop_rank = 0;
  std::string short_header{};  // used when the table must narrow; empty: the header
};

struct Sheet {
  std::vector<Column> columns;
  std::vector<Cells> rows;  // each as long as `columns`

  Cells headers() const {
    Cells names;
    names.reserve(columns.size());
    for (const Column& column : columns) {
      names.push_back(column.header);
    }
    return names;
  }
};

// `sheet` itself when no header or cell needs escaping (util/escape.h),
// else a copy of it in `storage` with every cell escaped.
inline const Sheet& with_escaped_cells(const Sheet& sheet, Sheet& storage) {
  auto needs = [](const Cells& cells) {
    for (const std::string& cell : cells) {
      if (needs_escaping(cell)) {
        return true;
      }
    }
    return false;
  };
  bool any = needs(sheet.headers());
  for (size_t i = 0; i < sheet.rows.size() && !any; ++i) {
    any = needs(sheet.rows[i]);
  }
  if (!any) {
    return sheet;
  }
  storage = sheet;
  for (Column& column : storage.columns) {
    column.header = escape_controls(column.header);
  }
  for (Cells& row : storage.rows) {
    for (std::string& cell : row) {
      cell = escape_controls(cell);
    }
  }
  return storage;
}

}  // namespace ephport
