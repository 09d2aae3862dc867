#include "output/csv.h"

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

std::string render_csv(const Sheet& unescaped, bool with_header) {
  // As in render_table(): no control character reaches a CSV cell.
  Sheet escaped;
  const Sheet& sheet = with_escaped_cells(unescaped, escaped);
  std::string out = with_header ? line(sheet.headers()) : std::string();
  for (const Cells& row : sheet.rows) {
    out += line(row);
  }
  return out;
}

}  // namespace ephport
