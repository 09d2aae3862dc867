// enter_netns() errors; entering a namespace is left to the lab tests (root).

#include "collect/linux/netns.h"

#include <gtest/gtest.h>

#include "collect/linux/netns.h"
#include "collect_fixtures.h"
#include "util/error.h"

namespace ephport {
namespace {

TEST(Netns, NamesLiveInRunNetns) {
  EXPECT_EQ(netns_path("blue"), "/run/netns/blue");
  EXPECT_EQ(netns_path("/proc/1/ns/net"), "/proc/1/ns/net");
  EXPECT_EQ(netns_path("./blue"), "./blue");
}

TEST(Netns, MissingNamespaceIsAnInputError) {
  EXPECT_EQ(testing::error_text<InputError>([] { enter_netns("ephport-no-such-namespace"); }),
            "network namespace 'ephport-no-such-namespace' not found "
            "(/run/netns/ephport-no-such-namespace): No such file or directory");
}

TEST(Netns, AFileThatIsNotANamespaceIsARuntimeError) {
  EXPECT_EQ(testing::error_text<RuntimeError>([] { enter_netns("/dev/null"); }),
            "cannot enter network namespace '/dev/null' (/dev/null): Invalid argument "
            "(not a network namespace file)");
}

}  // namespace
}  // namespace ephport
