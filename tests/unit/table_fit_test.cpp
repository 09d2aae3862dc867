// Fitting a table to a terminal's width (output/table.h): unchanged when it
// fits or no width is given; else short headers, then columns dropped from
// the highest drop_rank, never those of rank 0. And $COLUMNS parsing.

#include <gtest/gtest.h>

#include <string>

#include "output/table.h"
#include "platform/terminal.h"

namespace ephport {
namespace {

// Widths with full headers: 4+1+10+1+8+1+7 = 32 (values shorter).
Sheet sample_sheet() {
  return {{{"Addr", Align::left},
           {"LongHeader", Align::right, 0, "LH"},
           {"DropLast", Align::right, 1},
           {"DropSrc", Align::left, 2, "DS"}},
          {{"a", "1", "2", "x"}, {"bb", "10", "20", "yy"}}};
}

std::string header_of(const std::string& table) {
  return table.substr(0, table.find('\n'));
}

TEST(TableFit, NoWidthOrAWideEnoughOneChangesNothing) {
  const std::string full = render_table(sample_sheet());
  EXPECT_EQ(header_of(full), "Addr LongHeader DropLast DropSrc");
  bool narrowed = false;
  EXPECT_EQ(render_table(sample_sheet(), 32, &narrowed), full);
  EXPECT_FALSE(narrowed);
  EXPECT_EQ(render_table(sample_sheet(), 0, &narrowed), full);
  EXPECT_FALSE(narrowed);
}

TEST(TableFit, ShortHeadersFirstThenTheHighestRankGoes) {
  bool narrowed = false;
  // Short headers: 4+1+2+1+8+1+2 = 19.
  std::string table = render_table(sample_sheet(), 31, &narrowed);
  EXPECT_TRUE(narrowed);
  EXPECT_EQ(header_of(table), "Addr LH DropLast DS");
  // 18: rank 2 goes; 12: rank 1 too; 4: rank 0 stays even if too wide.
  EXPECT_EQ(header_of(render_table(sample_sheet(), 18)), "Addr LH DropLast");
  EXPECT_EQ(header_of(render_table(sample_sheet(), 12)), "Addr LH");
  table = render_table(sample_sheet(), 4);
  EXPECT_EQ(table, "Addr LH\n---- --\na     1\nbb   10\n");
}

TEST(TableFit, ColumnsParsesAWidthOrNothing) {
  EXPECT_EQ(parse_columns("80"), 80u);
  EXPECT_EQ(parse_columns("65535"), 65535u);
  for (const char* bad : {"", "0", "-1", "80x", "65536", " 80"}) {
    EXPECT_FALSE(parse_columns(bad)) << bad;
  }
}

}  // namespace
}  // namespace ephport
