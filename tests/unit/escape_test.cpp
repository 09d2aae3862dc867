// util/escape.h: outside text made visible, and idempotent.

#include "util/escape.h"

#include <gtest/gtest.h>

#include <string>

namespace ephport {
namespace {

TEST(Escape, ControlsBecomeVisible) {
  EXPECT_EQ(escape_controls("plain text ~"), "plain text ~");
  EXPECT_EQ(escape_controls("a\tb\nc\rd"), R"(a\tb\nc\rd)");
  EXPECT_EQ(escape_controls(std::string("\0\x1b[2J\x7f", 6)), R"(\x00\x1b[2J\x7f)");
  EXPECT_EQ(escape_controls("\xc2\x85\xc2\x9b"), R"(\u0085\u009b)");  // C1: NEL, CSI
}

TEST(Escape, ValidUtf8IsKeptInvalidBytesAreNot) {
  EXPECT_EQ(escape_controls("café … 日本 😀 \xc2\xa0"), "café … 日本 😀 \xc2\xa0");
  EXPECT_EQ(escape_controls("\xff\xfe"), R"(\xff\xfe)");
  EXPECT_EQ(escape_controls("\xc0\xaf"), R"(\xc0\xaf)");                  // overlong '/'
  EXPECT_EQ(escape_controls("\xed\xa0\x80"), R"(\xed\xa0\x80)");          // a surrogate
  EXPECT_EQ(escape_controls("\xe2\x80"), R"(\xe2\x80)");                  // cut short
  EXPECT_EQ(escape_controls("\xf4\x90\x80\x80"), R"(\xf4\x90\x80\x80)");  // above U+10FFFF
}

TEST(Escape, IsIdempotent) {
  for (const std::string text : {"a\nb\x1b[2J", "\xc2\x9b\xff", R"(\x1b already)"}) {
    const std::string once = escape_controls(text);
    EXPECT_EQ(escape_controls(once), once);
    EXPECT_FALSE(needs_escaping(once));
  }
  EXPECT_TRUE(needs_escaping("a\nb"));
  EXPECT_FALSE(needs_escaping("café"));
}

TEST(Escape, ExcerptIsShortAndNeverCutsAnEscape) {
  EXPECT_EQ(excerpt("short"), "short");
  EXPECT_EQ(excerpt(std::string(100, 'x'), 10), "xxxxxxxxxx…");
  EXPECT_EQ(excerpt("abcdefgh\x1b", 10), "abcdefgh…");  // "\x1b" would pass 10 bytes
  EXPECT_EQ(excerpt("abcdefg日本", 9), "abcdefg…");     // no half character
}

}  // namespace
}  // namespace ephport
