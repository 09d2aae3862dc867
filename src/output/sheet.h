#pragma once
// The value the table and CSV sinks render: a shape's columns and its rows
// of cell text. Each shape (addresses, destinations, processes, namespaces,
// fleet hosts) builds one; the sinks know nothing of the shapes.

#include <string>
#include <vector>

namespace ephport {

using Cells = std::vector<std::string>;

// How the table pads a column; CSV ignores it.
enum class Align { left, right };

struct Column {
  std::string header;
  Align align = Align::left;
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

}  // namespace ephport
