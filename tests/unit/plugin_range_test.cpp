// The monitoring-plugin range syntax: every form of the guidelines, its
// boundaries (inclusive), the forms it refuses, and how a warning and a
// critical range decide a state.

#include "analyze/plugin_range.h"

#include <gtest/gtest.h>

#include <string>

#include "util/error.h"

namespace ephport {
namespace {

PluginRange range(const std::string& text) {
  return PluginRange::parse(text, "--warning");
}

TEST(PluginRange, PlainNumberAlertsOutsideZeroToN) {
  PluginRange r = range("10");
  EXPECT_TRUE(r.alerts(-0.5));
  EXPECT_FALSE(r.alerts(0));
  EXPECT_FALSE(r.alerts(10));
  EXPECT_TRUE(r.alerts(10.01));
  EXPECT_EQ(r.text(), "10");
}

TEST(PluginRange, OpenEndAlertsBelowStart) {
  PluginRange r = range("10:");
  EXPECT_TRUE(r.alerts(9.99));
  EXPECT_FALSE(r.alerts(10));
  EXPECT_FALSE(r.alerts(1e9));
}

TEST(PluginRange, TildeStartAlertsAboveEnd) {
  PluginRange r = range("~:10");
  EXPECT_FALSE(r.alerts(-1e9));
  EXPECT_FALSE(r.alerts(10));
  EXPECT_TRUE(r.alerts(10.5));
}

TEST(PluginRange, StartEndAlertsOutsideInclusive) {
  PluginRange r = range("10:20");
  EXPECT_TRUE(r.alerts(9));
  EXPECT_FALSE(r.alerts(10));
  EXPECT_FALSE(r.alerts(15));
  EXPECT_FALSE(r.alerts(20));
  EXPECT_TRUE(r.alerts(21));
}

TEST(PluginRange, AtAlertsInsideInclusive) {
  PluginRange r = range("@10:20");
  EXPECT_FALSE(r.alerts(9.9));
  EXPECT_TRUE(r.alerts(10));
  EXPECT_TRUE(r.alerts(20));
  EXPECT_FALSE(r.alerts(20.1));
  EXPECT_EQ(r.text(), "@10:20");
}

TEST(PluginRange, AtWithOtherForms) {
  EXPECT_TRUE(range("@10").alerts(0));  // inside 0..10
  EXPECT_FALSE(range("@10").alerts(11));
  EXPECT_TRUE(range("@10:").alerts(50));
  EXPECT_FALSE(range("@10:").alerts(9));
  EXPECT_TRUE(range("@~:10").alerts(-3));
  EXPECT_FALSE(range("@~:10").alerts(11));
}

TEST(PluginRange, DecimalsNegativesAndInfiniteBothEnds) {
  PluginRange r = range("-5.5:12.25");
  EXPECT_TRUE(r.alerts(-5.6));
  EXPECT_FALSE(r.alerts(-5.5));
  EXPECT_FALSE(r.alerts(12.25));
  EXPECT_TRUE(r.alerts(12.26));
  EXPECT_FALSE(range("~:").alerts(1e300));  // everything inside: never alerts
  EXPECT_TRUE(range("@~:").alerts(0));      // and inverted: always alerts
  EXPECT_FALSE(range("5:5").alerts(5));
  EXPECT_TRUE(range("5:5").alerts(5.01));
}

TEST(PluginRange, RefusesWhatIsNotARange) {
  for (const char* bad : {"",      "@",      "abc", "10x",    "1O",   " 10", "10 ",  "+10",
                          "20:10", "@20:10", "-5",  ":10",    "10::", "~",   "~10",  "10:~",
                          "1e3",   "inf",    "nan", "10:nan", "0x10", "1,5", "@@10", "10:20:30"}) {
    SCOPED_TRACE(bad);
    EXPECT_THROW(range(bad), InputError);
  }
}

TEST(PluginRange, ErrorNamesTheOptionTheTextAndTheForms) {
  try {
    PluginRange::parse("20:10", "--critical");
    FAIL() << "20:10 accepted";
  } catch (const InputError& error) {
    const std::string message = error.what();
    EXPECT_NE(message.find("--critical: '20:10'"), std::string::npos) << message;
    EXPECT_NE(message.find("start above end"), std::string::npos) << message;
    EXPECT_NE(message.find("@N:M"), std::string::npos) << message;
    EXPECT_EQ(error.exit_code(), kExitUsage);
  }
}

TEST(Thresholds, CriticalBeforeWarningBeforeOk) {
  Thresholds t{range("80"), range("95")};
  EXPECT_EQ(t.evaluate(0), PluginState::ok);
  EXPECT_EQ(t.evaluate(80), PluginState::ok);
  EXPECT_EQ(t.evaluate(80.01), PluginState::warning);
  EXPECT_EQ(t.evaluate(95), PluginState::warning);
  EXPECT_EQ(t.evaluate(95.01), PluginState::critical);
  EXPECT_EQ(t.evaluate(100), PluginState::critical);
}

TEST(Thresholds, LowIsBadForFreeCounts) {
  Thresholds t{range("100:"), range("10:")};
  EXPECT_EQ(t.evaluate(5000), PluginState::ok);
  EXPECT_EQ(t.evaluate(100), PluginState::ok);
  EXPECT_EQ(t.evaluate(99), PluginState::warning);
  EXPECT_EQ(t.evaluate(10), PluginState::warning);
  EXPECT_EQ(t.evaluate(9), PluginState::critical);
  EXPECT_EQ(t.evaluate(0), PluginState::critical);
}

TEST(Thresholds, MissingRangesNeverAlert) {
  EXPECT_EQ(Thresholds{}.evaluate(1e9), PluginState::ok);
  EXPECT_EQ((Thresholds{std::nullopt, range("5")}.evaluate(6)), PluginState::critical);
  EXPECT_EQ((Thresholds{range("5"), std::nullopt}.evaluate(6)), PluginState::warning);
}

TEST(PluginState, NamesAndSeverity) {
  EXPECT_EQ(plugin_state_name(PluginState::ok), "OK");
  EXPECT_EQ(plugin_state_name(PluginState::warning), "WARNING");
  EXPECT_EQ(plugin_state_name(PluginState::critical), "CRITICAL");
  EXPECT_EQ(plugin_state_name(PluginState::unknown), "UNKNOWN");
  EXPECT_EQ(worse(PluginState::ok, PluginState::warning), PluginState::warning);
  EXPECT_EQ(worse(PluginState::warning, PluginState::unknown), PluginState::unknown);
  EXPECT_EQ(worse(PluginState::critical, PluginState::unknown), PluginState::critical);
  EXPECT_EQ(worse(PluginState::ok, PluginState::ok), PluginState::ok);
}

}  // namespace
}  // namespace ephport
