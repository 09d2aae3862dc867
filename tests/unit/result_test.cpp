// util/result.h: the recoverable-error type.

#include "util/result.h"

#include <gtest/gtest.h>

#include <memory>
#include <string>

namespace ephport {
namespace {

Result<int> half(int value) {
  if (value % 2 != 0) {
    return Error{"odd", 22};
  }
  return value / 2;
}

TEST(Result, HoldsAValue) {
  Result<int> result = half(8);
  ASSERT_TRUE(result.ok());
  EXPECT_TRUE(static_cast<bool>(result));
  EXPECT_EQ(result.value(), 4);
}

TEST(Result, HoldsAnError) {
  Result<int> result = half(3);
  ASSERT_FALSE(result.ok());
  EXPECT_FALSE(static_cast<bool>(result));
  EXPECT_EQ(result.error().message, "odd");
  EXPECT_EQ(result.error().error_number, 22);
  EXPECT_EQ(result.error(), (Error{"odd", 22}));
}

TEST(Result, ErrorNumberDefaultsToZero) {
  Result<std::string> result = Error{"no number"};
  EXPECT_EQ(result.error().error_number, 0);
}

TEST(Result, MovesAValueOut) {
  Result<std::unique_ptr<int>> result = std::make_unique<int>(7);
  std::unique_ptr<int> taken = std::move(result).value();
  ASSERT_NE(taken, nullptr);
  EXPECT_EQ(*taken, 7);
}

TEST(Result, VoidIsOkByDefault) {
  Result<void> result;
  EXPECT_TRUE(result.ok());
}

TEST(Result, VoidHoldsAnError) {
  Result<void> result = Error{"failed", 5};
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.error().message, "failed");
  EXPECT_EQ(result.error().error_number, 5);
}

TEST(Result, PassesAnErrorOn) {
  auto quarter = [](int value) -> Result<int> {
    Result<int> first = half(value);
    if (!first.ok()) {
      return first.error();
    }
    return half(first.value());
  };
  EXPECT_EQ(quarter(8).value(), 2);
  EXPECT_EQ(quarter(6).error().message, "odd");
}

}  // namespace
}  // namespace ephport
