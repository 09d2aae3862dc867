// snapshot/port_range_parse.h, util/parse_number.h's parse_integer_in_range,
// util/strings.h and util/dir.h.

#include "snapshot/port_range_parse.h"

#include <fcntl.h>
#include <gtest/gtest.h>

#include <cerrno>
#include <string>

#include "temp_dir.h"
#include "util/dir.h"
#include "util/fd.h"
#include "util/parse_number.h"
#include "util/strings.h"

namespace ephport {
namespace {

std::string error_of(const Result<PortRange>& result) {
  return result.ok() ? "no error" : result.error().message;
}

TEST(PortRangeParse, PortNumbers) {
  EXPECT_EQ(parse_port_number("0", 0).value(), 0);
  EXPECT_EQ(parse_port_number("65535", 1).value(), 65535);
  EXPECT_EQ(parse_port_number("0", 1).error().message, "port number 0 is out of range 1-65535");
  EXPECT_EQ(parse_port_number("x1", 1).error().message, "'x1' is not a port number");
  EXPECT_EQ(parse_port_number("", 1).error().message, "'' is not a port number");
}

TEST(PortRangeParse, BlankSeparated) {
  EXPECT_EQ(parse_blank_separated_port_range(" 1024\t2048\n").value(), (PortRange{1024, 2048}));
  EXPECT_EQ(error_of(parse_blank_separated_port_range("5 4")), "range 5-4 ends before it starts");
  EXPECT_EQ(error_of(parse_blank_separated_port_range("1-2")), "'1-2' is not two port numbers");
}

TEST(PortRangeParse, DashSeparated) {
  EXPECT_EQ(parse_dash_separated_port_range("1024-2048").value(), (PortRange{1024, 2048}));
  EXPECT_EQ(parse_dash_separated_port_range("7-7").value(), (PortRange{7, 7}));
  for (const char* bad : {"", "1024", "0-5", "5-4", "1-70000", "1-2-3", " 1-2", "1-2 ", "-1-2",
                          "1--2", "+1-2", "a-b", "1 2"}) {
    EXPECT_FALSE(parse_dash_separated_port_range(bad).ok()) << bad;
  }
}

TEST(ParseNumber, IntegerInRange) {
  EXPECT_EQ(parse_integer_in_range("-5", -10, 10, "number").value(), -5);
  EXPECT_EQ(parse_integer_in_range("11", -10, 10, "number").error().message,
            "number 11 is out of range -10-10");
  EXPECT_EQ(parse_integer_in_range("1 2", -10, 10, "number").error().message,
            "'1 2' is not a number");
}

TEST(Strings, Trim) {
  EXPECT_EQ(trim(" \t a b\n"), "a b");
  EXPECT_EQ(trim(" \n\t"), "");
  EXPECT_EQ(trim(""), "");
  EXPECT_EQ(trim("--x--", "-"), "x");
}

TEST(Dir, OpensRelativeToADirectory) {
  testing::TempDir dir;
  testing::write_file(dir.file("a"), "");
  UniqueFd base(::open(dir.path().c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  ASSERT_TRUE(base.valid());
  UniqueDir entries = open_dir_at(base.get(), ".");
  ASSERT_TRUE(entries);
  int files = 0;
  while (dirent* entry = ::readdir(entries.get())) {
    files += entry->d_name[0] != '.';
  }
  EXPECT_EQ(files, 1);
  errno = 0;
  EXPECT_FALSE(open_dir_at(base.get(), "missing"));
  EXPECT_EQ(errno, ENOENT);
  EXPECT_FALSE(open_dir_at(base.get(), "a"));
  EXPECT_EQ(errno, ENOTDIR);
}

}  // namespace
}  // namespace ephport
