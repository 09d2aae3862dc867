// Reading back the identities an evidence bundle's processes.json recorded
// (collect/import/bundle_files.h): the real file of a bundle, and damaged or
// hostile ones, each refused with one message naming the file.

#include "collect/import/bundle_files.h"

#include <gtest/gtest.h>

#include <fstream>
#include <string>

#include "collect_fixtures.h"
#include "temp_dir.h"
#include "util/error.h"

namespace ephport {
namespace {

using testing::fixture_path;
using testing::TempDir;

constexpr uint32_t kParent = 16067;  // 5 connections and the listener
constexpr uint32_t kChild = 16108;   // 3 connections

TEST(BundleFiles, ReadsTheWantedIdentitiesOfARealBundle) {
  const RecordedIdentities recorded =
      read_recorded_identities(fixture_path("evidence/processes.json"), {kParent, kChild, 1});
  EXPECT_EQ(recorded.time, "2026-12-03T12:37:31.974Z");
  ASSERT_EQ(recorded.by_pid.size(), 2u);  // pid 1 is not in the file
  const ProcessInfo& parent = recorded.by_pid.at(kParent);
  EXPECT_EQ(parent.pid, kParent);
  EXPECT_EQ(parent.name, "python3");
  EXPECT_EQ(parent.ppid, 16064u);
  EXPECT_EQ(parent.exe, "/root/.pyenv/versions/3.11.7/bin/python3.11");
  EXPECT_EQ(parent.cmdline.rfind("/root/.pyenv/versions/3.11.7/bin/python3 pop.py ", 0), 0u);
  EXPECT_FALSE(parent.cmdline_truncated);
  EXPECT_EQ(parent.user, "root");
  EXPECT_EQ(parent.uid, 0u);
  EXPECT_EQ(parent.cgroup, "/process_api/d2dbd01bf4fb180b1acb77bf57df714d");
  EXPECT_EQ(parent.unit, "");  // null
  EXPECT_EQ(parent.fd_count, 13);
  EXPECT_EQ(parent.start_time, 1695223u);
  EXPECT_TRUE(parent.unreadable.empty());
  EXPECT_EQ(recorded.by_pid.at(kChild).ppid, kParent);

  const RecordedIdentities only_child =
      read_recorded_identities(fixture_path("evidence/processes.json"), {kChild});
  ASSERT_EQ(only_child.by_pid.size(), 1u);
  EXPECT_EQ(only_child.by_pid.count(kChild), 1u);
}

class BundleFilesDamaged : public ::testing::Test {
 protected:
  // The message read_recorded_identities() throws for `content`.
  std::string error_for(const std::string& content) {
    std::ofstream(path_, std::ios::trunc) << content;
    try {
      read_recorded_identities(path_, {42});
    } catch (const InputError& error) {
      return error.what();
    }
    ADD_FAILURE() << "accepted: " << content.substr(0, 200);
    return "";
  }
  std::string message(const std::string& what) const { return path_ + ": " + what; }

  TempDir dir_;
  std::string path_ = dir_.file("processes.json");
};

TEST_F(BundleFilesDamaged, EachFaultIsOneMessageNamingTheFile) {
  EXPECT_EQ(error_for("Computer DateTime\n"),
            message("malformed JSON at line 1, column 1: syntax error while parsing value - "
                    "invalid literal; near 'C'"));
  EXPECT_EQ(error_for(""), message("malformed JSON at line 1, column 1: syntax error while "
                                   "parsing value - unexpected end of input; expected '[', '{', "
                                   "or a literal"));
  EXPECT_EQ(error_for("[]"), message("not an ephport.processes/1 file (expected a JSON object)"));
  EXPECT_EQ(error_for("{\"processes\":[]}"),
            message("not an ephport.processes/1 file (no \"schema\")"));
  EXPECT_EQ(error_for("{\"schema\":\"ephport.capture/1\"}"),
            message("schema is \"ephport.capture/1\", expected \"ephport.processes/1\""));
  // The processes array of a file that is right up to there, and the fault.
  struct Case {
    const char* processes;
    const char* message;
  };
  for (const Case& each : {
           Case{"{}", "processes: expected an array, got an object"},
           Case{"[{\"name\":\"x\"}]", "processes[0]: missing \"pid\""},
           Case{"[{\"pid\":1},{\"pid\":-2}]",
                "processes[1].pid: expected a non-negative integer, got -2"},
           Case{"[{\"pid\":42,\"name\":[1]}]", "processes[0].name: expected a value, got an array"},
           Case{"[{\"pid\":42,\"unreadable\":[\"exe\",3]}]",
                "processes[0].unreadable: expected an array of strings, got 3"},
           Case{"[{\"pid\":42,\"unreadable\":\"exe\"}]",
                "processes[0].unreadable: expected an array of strings, got \"exe\""},
           Case{"[{\"pid\":42,\"fd_count\":\"many\"}]",
                "processes[0].fd_count: expected a non-negative integer, got \"many\""},
       }) {
    EXPECT_EQ(error_for(std::string("{\"schema\":\"ephport.processes/1\",\"processes\":") +
                        each.processes + "}"),
              message(each.message));
  }
  EXPECT_EQ(error_for("{\"schema\":\"ephport.processes/1\",\"time\":5}"),
            message("time: expected a string, got 5"));
}

// Memory stays bounded: the parser would hold a whole value, or a stack
// entry per level, before the reader sees them.
TEST_F(BundleFilesDamaged, HugeValuesAndDeepNestingAreRefused) {
  const std::string head = "{\"schema\":\"ephport.processes/1\",\"processes\":[{\"pid\":42,";
  const std::string too_long(kMaxRecordedValueBytes + 1, 'a');
  const std::string refused = message("a value longer than 65536 bytes (not what ephport writes)");
  EXPECT_EQ(error_for(head + "\"name\":\"" + too_long + "\"}]}"), refused);
  EXPECT_EQ(error_for(head + "\"pid\":1" + std::string(kMaxRecordedValueBytes, '0') + "}]}"),
            refused);
  EXPECT_EQ(error_for(head + "\"x\":[" + std::string(100000, '[')),
            message("nested deeper than 16 levels (not what ephport writes)"));
  std::string objects;
  for (int i = 0; i < 100000; ++i) {
    objects += "{\"a\":";
  }
  EXPECT_EQ(error_for(objects), message("nested deeper than 16 levels (not what ephport writes)"));

  // At the limit, escapes included, a value is read.
  std::ofstream(path_, std::ios::trunc)
      << head << "\"name\":\"" << std::string(kMaxRecordedValueBytes - 2, 'b') << "\\\"\"}]}";
  const RecordedIdentities recorded = read_recorded_identities(path_, {42});
  EXPECT_EQ(recorded.by_pid.at(42).name, std::string(kMaxRecordedValueBytes - 2, 'b') + "\"");
}

TEST_F(BundleFilesDamaged, AMissingFileIsNamed) {
  try {
    read_recorded_identities(dir_.file("absent.json"), {});
    ADD_FAILURE() << "accepted";
  } catch (const InputError& error) {
    EXPECT_EQ(std::string(error.what()),
              "cannot read " + dir_.file("absent.json") + ": No such file or directory");
  }
}

}  // namespace
}  // namespace ephport
