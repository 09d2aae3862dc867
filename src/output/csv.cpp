#include "output/csv.h"

#include "output/address_rows.h"

namespace ephport {

namespace {
std::string quote(const std::string& cell) {
  if (cell.find_first_of(",\"\r\n") == std::string::npos) {
    return cell;
  }
  std::string quoted = "\"";
  for (char c : cell) {
    if (c == '"') {
      quoted += '"';
    }
    quoted += c;
  }
  quoted += '"';
  return quoted;
}

std::string line(const Cells& cells) {
  std::string text;
  for (size_t i = 0; i < cells.size(); ++i) {
    if (i != 0) {
      text += ',';
    }
    text += quote(cells[i]);
  }
  text += '\n';
  return text;
}
}  // namespace

std::string render_csv_header() {
  return line(address_columns());
}

std::string render_csv_rows(const Analysis& analysis) {
  std::string out;
  for (const Cells& row : address_rows(analysis)) {
    out += line(row);
  }
  return out;
}

std::string render_csv_line(const std::vector<std::string>& cells) {
  return line(cells);
}

}  // namespace ephport
