// Hostile inputs of issue #12 (tests/fixtures/hostile/README.md): each was
// a crash, an unbounded read, an "internal error" or raw control characters
// on the terminal; each is now an InputError (exit 2) of one short line, or
// text escaped where it enters (util/escape.h).

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <string>

#include "collect/import/bundle_files.h"
#include "collect/import/capture_file.h"
#include "collect/linux/process_info.h"
#include "collect_fixtures.h"
#include "fleet/fleet_rows.h"
#include "fleet/remote_snapshots.h"
#include "fleet/snapshot_document.h"
#include "output/csv.h"
#include "output/table.h"
#include "serve/basic_auth.h"
#include "serve/web_config.h"
#include "temp_dir.h"
#include "util/error.h"
#include "util/escape.h"

namespace ephport {
namespace {

using testing::fixture_path;
using testing::TempDir;
using testing::write_file;

// An error quotes at most a short excerpt: this bounds any message.
constexpr size_t kMaxMessage = 400;

std::string hostile(const std::string& name) {
  return fixture_path("hostile/" + name);
}

bool has_control(std::string_view text) {
  for (char c : text) {
    const auto byte = static_cast<unsigned char>(c);
    if (byte < 0x20 || byte == 0x7F) {
      return true;
    }
  }
  return false;
}

// The InputError of analysing `path`, checked to be one short line.
std::string capture_error(const std::string& path, const CaptureLimits& limits = {}) {
  try {
    read_capture(
        path, [](const HostFacts&) {}, [](const SocketRecord&) {}, nullptr, limits);
  } catch (const InputError& error) {
    const std::string message = error.what();
    EXPECT_LE(message.size(), kMaxMessage) << message.substr(0, 200);
    EXPECT_FALSE(has_control(message)) << message.substr(0, 200);
    return message;
  }
  ADD_FAILURE() << path << " was accepted";
  return "";
}

TEST(HostileInput, DeepNestingIsRefusedBeforeItIsBuilt) {
  TempDir dir;
  for (const std::string& prefix :
       {std::string(), std::string(R"({"schema":"ephport.capture/1","host":)")}) {
    const std::string path = dir.file("deep.jsonl");
    write_file(path, prefix + std::string(70000, '[') + std::string(70000, ']') +
                         (prefix.empty() ? "" : "}") + "\n");
    // A bare array is not even a capture; in the header's "host" the depth is what is wrong.
    EXPECT_EQ(capture_error(path),
              path + (prefix.empty() ? ":1: not an ephport.capture/1 file (expected the JSON "
                                       "Lines that 'ephport snapshot --save' writes)"
                                     : ":1: JSON nested deeper than 64 levels"));
  }
}

TEST(HostileInput, DevZeroStopsAtTheLineLimit) {
  EXPECT_EQ(capture_error("/dev/zero"),
            "/dev/zero:1: line longer than 4194304 bytes (not what 'ephport snapshot --save' "
            "writes)");
}

TEST(HostileInput, LongLinesAndFilesAreRefusedAtTheirLimit) {
  TempDir dir;
  const std::string path = dir.file("capture.jsonl");
  write_file(path, testing::read_file(hostile("computer_with_escapes.jsonl")));
  CaptureLimits small;
  small.max_line_bytes = 100;  // the header is longer
  EXPECT_EQ(capture_error(path, small),
            path + ":1: line longer than 100 bytes (not what 'ephport snapshot --save' writes)");
  CaptureLimits short_file;
  short_file.max_file_bytes = 200;
  EXPECT_EQ(capture_error(path, short_file),
            path + ": longer than 200 bytes (the limit of a capture)");
}

TEST(HostileInput, TenMegabyteStringGivesAShortMessage) {
  TempDir dir;
  const std::string path = dir.file("long.jsonl");
  // Unterminated, then terminated by a control character: nlohmann quotes the token read.
  write_file(path, "{\"schema\":\"" + std::string(10'000'000, 'x') + "\x01\"}\n");
  CaptureLimits longer_lines;  // past the line limit, to reach the parser
  longer_lines.max_line_bytes = size_t{16} << 20;
  const std::string message = capture_error(path, longer_lines);
  EXPECT_EQ(message.rfind(path + ":1: malformed JSON at column 10000012: ", 0), 0u) << message;
  EXPECT_EQ(capture_error(path), path +
                                     ":1: line longer than 4194304 bytes (not what 'ephport "
                                     "snapshot --save' writes)");
  EXPECT_NE(message.find("; near '…xxxxx"), std::string::npos) << message;
}

TEST(HostileInput, NumberOutOfRangeIsMalformedInput) {
  const std::string path = hostile("number_overflow.jsonl");
  EXPECT_EQ(capture_error(path), path +
                                     ":1: malformed JSON at column 16: number out of range; "
                                     "near '1e999'");
}

TEST(HostileInput, RawControlCharactersAreQuotedEscaped) {
  const std::string path = hostile("raw_escape_in_string.jsonl");
  const std::string message = capture_error(path);
  // nlohmann names a control character in the token it quotes; the rest is cut.
  EXPECT_EQ(message, path +
                         ":1: malformed JSON at column 12: syntax error while parsing value - "
                         "invalid string: control character U+001B (ESC) must be escaped to "
                         "\\u001B; near '\"<U+001B>'");
}

TEST(HostileInput, ComputerAndNetnsFromACaptureArriveEscaped) {
  HostFacts host = read_capture(hostile("computer_with_escapes.jsonl"), [](const SocketRecord&) {});
  EXPECT_EQ(host.computer, R"(a\nb\x1b[2J)");
  EXPECT_EQ(host.netns, R"(ns\u009b31m)");
}

TEST(HostileInput, RemoteComputerWithNewlineIsOneEscapedRow) {
  nlohmann::json document =
      nlohmann::json::parse(testing::read_file(fixture_path("remote/snapshot.json")));
  document["computer"] = "a\nb\x1b[2J";
  const std::string text = document.dump();
  Analysis analysis = parse_snapshot_document(text);
  EXPECT_EQ(analysis.host.computer, R"(a\nb\x1b[2J)");
  std::vector<HostRecord> hosts(1);
  hosts[0].endpoint = "10.0.0.1:19209";
  hosts[0].analysis = &analysis;
  hosts[0].document = &text;
  const Sheet sheet = fleet_sheet(hosts, false);
  const std::string table = render_table(sheet);
  const std::string csv = render_csv(sheet);
  // The header, its rule and one line per row; not one more.
  EXPECT_EQ(std::count(table.begin(), table.end(), '\n'), 2 + static_cast<long>(sheet.rows.size()))
      << table;
  EXPECT_EQ(std::count(csv.begin(), csv.end(), '\n'), 1 + static_cast<long>(sheet.rows.size()))
      << csv;
  for (const std::string& out : {table, csv}) {
    std::string without_newlines = out;
    std::erase(without_newlines, '\n');
    EXPECT_FALSE(has_control(without_newlines)) << out;
    EXPECT_NE(out.find(R"(a\nb\x1b[2J)"), std::string::npos) << out;
  }
  const std::string jsonl = render_fleet_jsonl(hosts);
  EXPECT_EQ(std::count(jsonl.begin(), jsonl.end(), '\n'), 1) << jsonl.substr(0, 200);
  EXPECT_EQ(nlohmann::json::parse(jsonl)["computer"], R"(a\nb\x1b[2J)");
}

TEST(HostileInput, RemoteDocumentErrorsAreShort) {
  for (const std::string& text :
       {std::string(70000, '[') + std::string(70000, ']'), std::string("{\"schema\":1e999}"),
        "{\"schema\":\"" + std::string(10'000'000, 'y') + "\x1b\"}"}) {
    try {
      parse_snapshot_document(text);
      ADD_FAILURE() << "accepted";
    } catch (const InputError& error) {
      const std::string message = error.what();
      EXPECT_LE(message.size(), kMaxMessage) << message.substr(0, 200);
      EXPECT_FALSE(has_control(message)) << message.substr(0, 200);
      EXPECT_EQ(message.rfind("snapshot document: ", 0), 0u) << message.substr(0, 200);
    }
  }
}

TEST(HostileInput, HttpErrorBodyIsEscaped) {
  EXPECT_EQ(http_error_text(500, "\x1b[2J\x1b[Hgotcha\r\nsecond line", false),
            R"(HTTP 500: \x1b[2J\x1b[Hgotcha\r)");
  const std::string long_body(1'000'000, 'z');
  EXPECT_LE(http_error_text(502, long_body, false).size(), 220u);
}

TEST(HostileInput, AuthFileIsReadToABound) {
  EXPECT_THROW(read_auth_file("/dev/zero"), InputError);  // grew the memory before
  TempDir dir;
  write_file(dir.file("nul"), std::string("user:pass\0word\n", 15));
  EXPECT_THROW(read_auth_file(dir.file("nul")), InputError);
  write_file(dir.file("no_newline"), "user:password");
  EXPECT_EQ(read_auth_file(dir.file("no_newline")).password, "password");
}

TEST(HostileInput, ProcessTextFromProcArrivesEscaped) {
  TempDir dir;
  const std::string pid_dir = dir.file("4242");
  std::filesystem::create_directory(pid_dir);
  // comm may hold any byte but NUL ('/' too): a program renamed itself.
  write_file(pid_dir + "/stat",
             "4242 (evil\x1b[2J\nname) S 1 4242 4242 0 -1 4194560 0 0 0 0 0 0 0 0 20 0 1 0 "
             "12345 0 0\n");
  write_file(pid_dir + "/status", "Name:\tevil\nUid:\t0\t0\t0\t0\n");
  const char cmdline[] = "prog\0--title=\x1b]0;owned\x07";
  write_file(pid_dir + "/cmdline", std::string(cmdline, sizeof cmdline - 1));
  write_file(pid_dir + "/cgroup", "0::/system.slice/a\x1b[31m.service\n");
  std::optional<ProcessInfo> info = read_process_info(dir.path(), 4242);
  ASSERT_TRUE(info);
  EXPECT_EQ(info->name, R"(evil\x1b[2J\nname)");
  EXPECT_EQ(info->cmdline, R"(prog --title=\x1b]0;owned\x07)");
  EXPECT_EQ(info->cgroup, R"(/system.slice/a\x1b[31m.service)");
  EXPECT_EQ(info->unit, R"(a\x1b[31m.service)");
}

TEST(HostileInput, BundleProcessNamesArriveEscaped) {
  TempDir dir;
  const std::string path = dir.file("processes.json");
  write_file(path,
             R"({"schema":"ephport.processes/1","processes":[{"pid":42,"name":"x\u001b[2Jy"}]})");
  RecordedIdentities identities = read_recorded_identities(path, {42});
  ASSERT_EQ(identities.by_pid.count(42), 1u);
  EXPECT_EQ(identities.by_pid.at(42).name, R"(x\x1b[2Jy)");
}

TEST(HostileInput, TableAndCsvEscapeEveryCell) {
  Sheet sheet{{Column{"Name", Align::left}}, {{"a\nb\x1b[2J\x7f\xc2\x9b\xff"}}};
  const std::string table = render_table(sheet);
  EXPECT_EQ(table,
            "Name\n----\n"
            R"(a\nb\x1b[2J\x7f\u009b\xff)"
            "\n");
  EXPECT_EQ(render_csv(sheet),
            "Name\n"
            R"(a\nb\x1b[2J\x7f\u009b\xff)"
            "\n");
}

// --- the web config and basic auth ---

std::string web_config_error(const std::string& path) {
  try {
    load_web_config(path);
  } catch (const InputError& error) {
    const std::string message = error.what();
    EXPECT_FALSE(has_control(message)) << message;
    return message;
  }
  ADD_FAILURE() << path << " was accepted";
  return "";
}

TEST(HostileInput, DirectoryAsWebConfigIsAnInputError) {
  TempDir dir;
  EXPECT_EQ(web_config_error(dir.path()), "--web.config.file " + dir.path() + ": is a directory");
}

TEST(HostileInput, DirectoryAsACertificateIsNamed) {
  TempDir dir;
  std::filesystem::create_directory(dir.file("certs"));
  write_file(dir.file("web.yml"), "tls_server_config:\n  cert_file: certs\n  key_file: certs\n");
  EXPECT_EQ(web_config_error(dir.file("web.yml")),
            "--web.config.file " + dir.file("web.yml") +
                ": tls_server_config.cert_file: " + dir.file("certs") + ": is a directory");
}

TEST(HostileInput, OversizedWebConfigIsRefused) {
  TempDir dir;
  const std::string path = dir.file("web.yml");
  write_file(path, "# " + std::string(2 << 20, 'x') + "\n");
  EXPECT_EQ(web_config_error(path), "--web.config.file " + path + ": longer than 1048576 bytes");
}

TEST(HostileInput, DuplicateWebConfigKeysAreNamed) {
  const std::string top = hostile("duplicate_top_key.yml");
  EXPECT_EQ(web_config_error(top),
            "--web.config.file " + top + ": basic_auth_users: duplicate key");
  const std::string user = hostile("duplicate_user.yml");
  EXPECT_EQ(web_config_error(user),
            "--web.config.file " + user + ": basic_auth_users.prometheus: duplicate user");
}

TEST(HostileInput, NulInAHashIsRefused) {
  const std::string path = hostile("nul_in_hash.yml");
  EXPECT_EQ(
      web_config_error(path),
      "--web.config.file " + path + ": basic_auth_users.prometheus: a NUL character in the hash");
}

TEST(HostileInput, NulInAPasswordDoesNotCutIt) {
  // crypt("test", "$2y$05$A3Ck1kDLXN0Y6UvFyc5vq.") (basic_auth_test.cpp).
  BasicAuth auth(std::map<std::string, std::string>{
      {"u", "$2y$05$A3Ck1kDLXN0Y6UvFyc5vq..R8/Am8J3gpEIC8FkgiXuXByiJ4Vkc."}});
  EXPECT_TRUE(auth.verify("u", "test"));
  EXPECT_FALSE(auth.verify("u", std::string("test\0anything", 13)));
  // "u:test\0x" in base64.
  EXPECT_FALSE(auth.check_header("Basic dTp0ZXN0AHg="));
}

TEST(HostileInput, BcryptCostAboveTheBoundIsRefusedAtStart) {
  const std::string cost_31 = "$2b$31$A3Ck1kDLXN0Y6UvFyc5vq..R8/Am8J3gpEIC8FkgiXuXByiJ4Vkc.";
  try {
    BasicAuth auth(std::map<std::string, std::string>{{"prometheus", cost_31}});
    ADD_FAILURE() << "accepted";
  } catch (const InputError& error) {
    EXPECT_EQ(std::string(error.what())
                  .rfind("basic_auth_users.prometheus: bcrypt cost 31 is "
                         "above 14, the most ephport accepts",
                         0),
              0u)
        << error.what();
  }
  const WebConfig config = load_web_config(hostile("bcrypt_cost_31.yml"));
  EXPECT_THROW(BasicAuth{config.basic_auth_users}, InputError);
}

}  // namespace
}  // namespace ephport
