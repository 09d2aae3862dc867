#include "output/sink.h"

#include "output/csv.h"
#include "output/table.h"

namespace ephport {

std::string render_log_record(Format format, const ShapeOutput& shape, bool header, size_t width) {
  switch (format) {
    case Format::csv:
      return render_csv(shape.sheet(false), header);
    case Format::json:
    case Format::jsonl:
      return shape.json();
    case Format::table:
      break;
  }
  bool narrowed = false;
  std::string table = render_table(shape.sheet(true), width, &narrowed);
  return narrowed && header ? table + narrowed_note(width) + "\n" : table + "\n";
}

std::string render_snapshot(Format format, const ShapeOutput& shape) {
  switch (format) {
    case Format::csv:
      return render_csv(shape.sheet(false));
    case Format::json:
    case Format::jsonl:
      return shape.json();
    case Format::table:
      break;
  }
  return shape.table_view ? shape.table_view() : render_table(shape.sheet(true));
}

}  // namespace ephport
