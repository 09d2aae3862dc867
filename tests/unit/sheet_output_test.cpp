// The sinks over the sheet model: any shape renders the same way.

#include <gtest/gtest.h>

#include "output/csv.h"
#include "output/format.h"
#include "output/sink.h"
#include "output/table.h"

namespace ephport {
namespace {

Sheet two_by_two() {
  return Sheet{{{"Name", Align::left}, {"Count", Align::right}},
               {{"a,b", "7"}, {"long-name", "12"}}};
}

TEST(SheetOutput, FormatNamesRoundTrip) {
  for (Format format : {Format::table, Format::csv, Format::json, Format::jsonl}) {
    EXPECT_EQ(parse_format(format_name(format)), format);
  }
  EXPECT_FALSE(parse_format("xml").has_value());
  EXPECT_FALSE(parse_format("").has_value());
}

TEST(SheetOutput, TablePadsToTheWidestCellAndAligns) {
  EXPECT_EQ(render_table(two_by_two()),
            "Name      Count\n"
            "----      -----\n"
            "a,b           7\n"
            "long-name    12\n");
}

TEST(SheetOutput, CsvQuotesAndHeaderIsOptional) {
  EXPECT_EQ(render_csv(two_by_two()), "Name,Count\n\"a,b\",7\nlong-name,12\n");
  EXPECT_EQ(render_csv(two_by_two(), false), "\"a,b\",7\nlong-name,12\n");
}

TEST(SheetOutput, SinkMarksEstimatesForTheTableOnly) {
  std::vector<bool> marks;
  ShapeOutput shape{[&](bool mark) {
                      marks.push_back(mark);
                      return two_by_two();
                    },
                    [] { return std::string("{}\n"); }, nullptr};
  EXPECT_EQ(render_log_record(Format::table, shape, true), render_table(two_by_two()) + "\n");
  EXPECT_EQ(render_log_record(Format::csv, shape, false), render_csv(two_by_two(), false));
  EXPECT_EQ(render_log_record(Format::jsonl, shape, true), "{}\n");
  EXPECT_EQ(render_snapshot(Format::csv, shape), render_csv(two_by_two()));
  EXPECT_EQ(marks, (std::vector<bool>{true, false, false}));
}

}  // namespace
}  // namespace ephport
