#include "collect/import/capture_file.h"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <stdexcept>
#include <string>
#include <vector>

#include "private_tmpfs.h"
#include "temp_dir.h"
#include "util/error.h"

namespace ephport {
namespace {

using namespace std::chrono;
using testing::read_file;
using testing::TempDir;
using testing::write_file;

Address addr(const char* text) {
  return *Address::parse(text);
}

HostFacts sample_host() {
  HostFacts host;
  host.computer = "web-01";
  host.time = system_clock::time_point{sys_days{2026y / 11 / 25}} + hours{14} + minutes{34} +
              seconds{44} + milliseconds{123};
  host.netns = "lab";
  host.source = SocketSource::netlink;
  host.set_range({40000, 40999});
  host.set_reserved({{40100, 40100}, {40200, 40299}});
  host.linux_sysctls.tcp_tw_reuse = 1;
  host.linux_sysctls.tcp_tw_reuse_delay_ms = 1000;
  host.linux_sysctls.tcp_timestamps = 0;
  host.linux_sysctls.ip_autobind_reuse = 1;
  host.linux_sysctls.bindv6only = 1;
  host.linux_sysctls.tcp_fin_timeout = 30;
  return host;
}

SocketRecord make(Protocol protocol, Address::Family family, SockState state, const char* local,
                  uint16_t lport, const char* remote, uint16_t rport) {
  SocketRecord record;
  record.protocol = protocol;
  record.family = family;
  record.state = state;
  record.local = addr(local);
  record.local_port = lport;
  record.remote = addr(remote);
  record.remote_port = rport;
  return record;
}

// Listeners and bound-only sockets first, as collectors deliver them.
std::vector<SocketRecord> sample_records() {
  using enum Address::Family;
  std::vector<SocketRecord> records;
  records.push_back(make(Protocol::tcp, v4, SockState::listen, "0.0.0.0", 8080, "0.0.0.0", 0));
  records.back().inode = 1234;
  records.back().uid = 1000;
  records.push_back(make(Protocol::tcp, v6, SockState::close, "::", 40100, "::", 0));
  records.back().v6only = 1;
  records.back().bind_address_no_port = true;
  records.push_back(make(Protocol::tcp, v6, SockState::listen, "::1", 9090, "::", 0));
  records.back().v6only = 0;
  // A dual-stack socket talking IPv4: family 6, addresses normalised.
  records.push_back(make(Protocol::tcp, v6, SockState::established, "::ffff:127.0.0.1", 40001,
                         "::ffff:127.0.0.1", 8080));
  records.back().v6only = 0;
  records.back().inode = UINT64_MAX;
  records.push_back(
      make(Protocol::tcp, v6, SockState::time_wait, "2001:db8::1", 40002, "2001:db8::2", 443));
  records.back().timer = 3;
  records.back().expires_ms = 59'123;
  records.push_back(
      make(Protocol::tcp, v4, SockState::syn_sent, "10.0.0.1", 40003, "10.0.0.2", 80));
  records.back().ifindex = 7;
  records.back().uid = UINT32_MAX;
  records.push_back(make(Protocol::udp, v4, SockState::close, "0.0.0.0", 53, "0.0.0.0", 0));
  records.push_back(
      make(Protocol::udp, v6, SockState::established, "fe80::1", 40004, "fe80::2", 123));
  records.back().v6only = 1;
  return records;
}

// Every field, so that comparing two of these compares two records.
std::string describe(const SocketRecord& r) {
  return fmt::format(
      "{} {} {} {}:{} {}:{} if={} uid={} inode={} timer={} expires={} v6only={} "
      "banp={} local_family={} remote_family={}",
      protocol_name(r.protocol), static_cast<int>(r.family), state_name(r.state), r.local.str(),
      r.local_port, r.remote.str(), r.remote_port, r.ifindex, r.uid, r.inode, r.timer, r.expires_ms,
      r.v6only, r.bind_address_no_port, static_cast<int>(r.local.family()),
      static_cast<int>(r.remote.family()));
}

std::vector<std::string> describe_all(const std::vector<SocketRecord>& records) {
  std::vector<std::string> lines;
  lines.reserve(records.size());
  for (const SocketRecord& record : records) {
    lines.push_back(describe(record));
  }
  return lines;
}

void save(const std::string& path, const HostFacts& host,
          const std::vector<SocketRecord>& records) {
  CaptureWriter writer(path);
  writer.write_host(host);
  for (const SocketRecord& record : records) {
    writer.add(record);
  }
  writer.finish();
}

std::vector<SocketRecord> load(const std::string& path, HostFacts* host = nullptr) {
  std::vector<SocketRecord> records;
  HostFacts facts = read_capture(path, [&](const SocketRecord& r) { records.push_back(r); });
  if (host != nullptr) {
    *host = facts;
  }
  return records;
}

// The message of the InputError that reading `path` throws.
std::string input_error(const std::string& path) {
  try {
    load(path);
  } catch (const InputError& error) {
    return error.what();
  }
  return "no InputError";
}

std::string header_line() {
  return fmt::format("{{\"schema\":\"ephport.capture/1\",\"host\":{}}}\n",
                     host_facts_to_json(sample_host()).dump());
}

const char* kGoodLine =
    R"({"proto":"tcp","family":4,"state":"ESTABLISHED","local":"127.0.0.1","lport":40000,)"
    R"("remote":"127.0.0.1","rport":8080,"if":0,"uid":0,"inode":1234,"timer":0,)"
    R"("expires_ms":0,"v6only":null,"bind_address_no_port":false})";

// kGoodLine with one field's JSON value replaced.
std::string good_line_with(const std::string& key, const std::string& value) {
  nlohmann::json line = nlohmann::json::parse(kGoodLine);
  line[key] = nlohmann::json::parse(value);
  return line.dump();
}

class CaptureFileTest : public ::testing::Test {
 protected:
  TempDir dir_;
  std::string path_ = dir_.file("capture.jsonl");
};

TEST_F(CaptureFileTest, RoundTripKeepsEveryRecordInOrder) {
  save(path_, sample_host(), sample_records());
  HostFacts host;
  std::vector<SocketRecord> records = load(path_, &host);
  EXPECT_EQ(describe_all(records), describe_all(sample_records()));
  EXPECT_EQ(host_facts_to_json(host), host_facts_to_json(sample_host()));
  EXPECT_EQ(host.time, sample_host().time);
  EXPECT_EQ(host.reserved, sample_host().reserved);
  EXPECT_EQ(host.linux_sysctls.tcp_tw_reuse_delay_ms, 1000);
}

TEST_F(CaptureFileTest, HostFactsComeBeforeTheFirstSocket) {
  save(path_, sample_host(), sample_records());
  std::vector<std::string> events;
  read_capture(
      path_, [&](const HostFacts& host) { events.push_back("host " + host.computer); },
      [&](const SocketRecord& record) { events.emplace_back(state_name(record.state)); });
  ASSERT_EQ(events.size(), sample_records().size() + 1);
  EXPECT_EQ(events[0], "host web-01");
  EXPECT_EQ(events[1], "LISTEN");
}

TEST_F(CaptureFileTest, WritesTheDocumentedLines) {
  std::vector<SocketRecord> records = sample_records();
  save(path_, sample_host(), {records[3]});
  std::string content = read_file(path_);
  EXPECT_EQ(content.substr(0, 40), R"({"schema":"ephport.capture/1","host":{"b)");
  std::string host_line = content.substr(0, content.find('\n'));
  EXPECT_NE(host_line.find(R"("time":"2026-11-25T14:34:44.123Z")"), std::string::npos);
  EXPECT_NE(host_line.find(R"("reserved":[[40100,40100],[40200,40299]])"), std::string::npos);
  EXPECT_NE(host_line.find(R"("range":{"first":40000,"last":40999})"), std::string::npos);
  EXPECT_EQ(content.substr(content.find('\n') + 1),
            R"({"proto":"tcp","family":6,"state":"ESTABLISHED","local":"127.0.0.1",)"
            R"("lport":40001,"remote":"127.0.0.1","rport":8080,"if":0,"uid":0,)"
            R"("inode":18446744073709551615,"timer":0,"expires_ms":0,"v6only":0,)"
            R"("bind_address_no_port":false})"
            "\n");
}

TEST_F(CaptureFileTest, AbsentTwReuseDelayIsNull) {
  HostFacts host = sample_host();
  host.linux_sysctls.tcp_tw_reuse_delay_ms.reset();
  EXPECT_TRUE(host_facts_to_json(host)["tcp_tw_reuse_delay_ms"].is_null());
  save(path_, host, {});
  HostFacts loaded;
  EXPECT_TRUE(load(path_, &loaded).empty());
  EXPECT_FALSE(loaded.linux_sysctls.tcp_tw_reuse_delay_ms.has_value());
  EXPECT_EQ(loaded.computer, "web-01");
}

TEST_F(CaptureFileTest, HostFactsJsonRoundTrip) {
  HostFacts host = host_facts_from_json(host_facts_to_json(sample_host()));
  EXPECT_EQ(host_facts_to_json(host), host_facts_to_json(sample_host()));
  EXPECT_EQ(host.time, sample_host().time);
}

TEST_F(CaptureFileTest, ManyRecordsPassTheWriteBuffer) {
  std::vector<SocketRecord> records;
  for (int i = 0; i < 5000; ++i) {
    records.push_back(make(Protocol::tcp, Address::Family::v4, SockState::established, "10.1.2.3",
                           static_cast<uint16_t>(30000 + i), "10.9.9.9", 443));
    records.back().inode = static_cast<uint64_t>(i);
  }
  save(path_, sample_host(), records);
  EXPECT_GT(std::filesystem::file_size(path_), 64U * 1024U);
  EXPECT_EQ(describe_all(load(path_)), describe_all(records));
}

TEST_F(CaptureFileTest, NoFinalFileUnlessFinished) {
  {
    CaptureWriter writer(path_);
    writer.write_host(sample_host());
    writer.add(sample_records()[0]);
    EXPECT_FALSE(std::filesystem::exists(path_));
    EXPECT_TRUE(std::filesystem::exists(path_ + ".tmp"));
  }
  EXPECT_FALSE(std::filesystem::exists(path_));
  EXPECT_FALSE(std::filesystem::exists(path_ + ".tmp"));
}

TEST_F(CaptureFileTest, UnfinishedWriteLeavesAnOlderFileAlone) {
  save(path_, sample_host(), sample_records());
  std::string before = read_file(path_);
  {
    CaptureWriter writer(path_);
    writer.write_host(sample_host());
  }
  EXPECT_EQ(read_file(path_), before);
  EXPECT_FALSE(std::filesystem::exists(path_ + ".tmp"));
}

TEST_F(CaptureFileTest, FinishReplacesAnOlderFile) {
  save(path_, sample_host(), sample_records());
  save(path_, sample_host(), {});
  EXPECT_TRUE(load(path_).empty());
  EXPECT_FALSE(std::filesystem::exists(path_ + ".tmp"));
}

TEST_F(CaptureFileTest, WriterReportsAnUnwritablePath) {
  std::string path = dir_.file("missing/capture.jsonl");
  try {
    CaptureWriter writer(path);
    FAIL() << "no error";
  } catch (const RuntimeError& error) {
    EXPECT_EQ(std::string(error.what()), "cannot write " + path + ": No such file or directory");
  }
}

TEST_F(CaptureFileTest, WriterRejectsMisuse) {
  CaptureWriter writer(path_);
  EXPECT_THROW(writer.add(sample_records()[0]), std::logic_error);
  EXPECT_THROW(writer.finish(), std::logic_error);
  writer.write_host(sample_host());
  EXPECT_THROW(writer.write_host(sample_host()), std::logic_error);
  writer.finish();
  EXPECT_THROW(writer.add(sample_records()[0]), std::logic_error);
}

TEST_F(CaptureFileTest, FullDiskLeavesNoFileAndKeepsTheOldOne) {
  testing::run_on_private_tmpfs("size=16k", 0, [](const std::string& mount) -> std::string {
    std::string path = mount + "/capture.jsonl";
    write_file(path, "old\n");
    std::string message;
    try {
      CaptureWriter writer(path);
      writer.write_host(sample_host());
      for (int i = 0; i < 1000; ++i) {
        writer.add(sample_records()[3]);
      }
      writer.finish();
    } catch (const RuntimeError& error) {
      message = error.what();
    }
    if (message != "cannot write " + path + ": No space left on device") {
      return "unexpected error: " + message;
    }
    if (read_file(path) != "old\n") {
      return "the old file changed";
    }
    if (std::filesystem::exists(path + ".tmp")) {
      return "the temporary file was left behind";
    }
    return "";
  });
}

// The FILE of `analyze` is input: missing or a directory is an input error
// (exit 2), as for every other command-line argument (issue #11).
TEST_F(CaptureFileTest, UnreadableFile) {
  try {
    load(path_);
    FAIL() << "no error";
  } catch (const InputError& error) {
    EXPECT_EQ(std::string(error.what()), "cannot read " + path_ + ": No such file or directory");
  }
  try {
    load(dir_.path());
    FAIL() << "no error";
  } catch (const InputError& error) {
    EXPECT_EQ(std::string(error.what()), "cannot read " + dir_.path() + ": Is a directory");
  }
}

TEST_F(CaptureFileTest, NotACaptureSaysWhatItIsNot) {
  for (const char* content : {"hello\n", "Computer DateTime LocalAddress\n", "\n"}) {
    SCOPED_TRACE(content);
    std::ofstream(path_) << content;
    EXPECT_EQ(input_error(path_),
              path_ +
                  ":1: not an ephport.capture/1 file (expected the JSON Lines that 'ephport "
                  "snapshot --save' writes)");
  }
}

TEST_F(CaptureFileTest, HeaderErrors) {
  struct Case {
    std::string content;
    std::string message;
  };
  nlohmann::json bad_time = host_facts_to_json(sample_host());
  bad_time["time"] = "yesterday";
  nlohmann::json no_first = host_facts_to_json(sample_host());
  no_first["range"].erase("first");
  nlohmann::json inverted = host_facts_to_json(sample_host());
  inverted["range"] = {{"first", 61000}, {"last", 32768}};
  nlohmann::json bad_reserved = host_facts_to_json(sample_host());
  bad_reserved["reserved"] = {{1, 2, 3}};
  nlohmann::json bad_sysctl = host_facts_to_json(sample_host());
  bad_sysctl["tcp_tw_reuse"] = "2";
  auto with_host = [](const nlohmann::json& host) {
    return R"({"schema":"ephport.capture/1","host":)" + host.dump() + "}\n";
  };
  std::vector<Case> cases = {
      {"", "1: empty file, expected an ephport.capture/1 header"},
      {R"({"schema":"ephport.capture/2","host":{}})"
       "\n",
       R"(1: schema is "ephport.capture/2", expected "ephport.capture/1")"},
      {R"({"host":{}})"
       "\n",
       R"(1: not an ephport.capture/1 file (no "schema"))"},
      {"[1,2,3]\n", "1: expected a JSON object, got [1,2,3]"},
      {"{\"schema\":\n",
       "1: malformed JSON at column 11: syntax error while parsing value - "
       "unexpected end of input; expected '[', '{', or a literal; near '\"schema\":'"},
      {R"({"schema":"ephport.capture/1"})"
       "\n",
       R"(1: missing "host")"},
      {with_host(bad_time), R"(1: host.time: expected an RFC 3339 time, got "yesterday")"},
      {with_host(no_first), R"(1: missing "host.range.first")"},
      {with_host(inverted), "1: host.range: first port 61000 is above last port 32768"},
      {with_host(bad_reserved), "1: host.reserved[0]: expected [first, last], got [1,2,3]"},
      {with_host(bad_sysctl), R"(1: host.tcp_tw_reuse: expected an integer, got "2")"},
  };
  for (const Case& c : cases) {
    write_file(path_, c.content);
    EXPECT_EQ(input_error(path_), path_ + ":" + c.message);
  }
}

TEST_F(CaptureFileTest, SocketLineErrorsNameTheLine) {
  struct Case {
    std::string line;
    std::string message;
  };
  std::vector<Case> cases = {
      {"{\"proto\":\"tcp\",",
       "malformed JSON at column 16: syntax error while parsing "
       "object key - unexpected end of input; expected string literal; near '\"tcp\",'"},
      {"42", "expected a JSON object, got 42"},
      {good_line_with("state", R"("LISTENING")"), R"(state: unknown state "LISTENING")"},
      {good_line_with("proto", R"("sctp")"),
       R"(proto: unknown protocol "sctp" (expected tcp or udp))"},
      {good_line_with("family", "10"), "family: expected 4 or 6, got 10"},
      {good_line_with("local", R"("127.0.0.300")"), R"(local: bad address "127.0.0.300")"},
      {good_line_with("remote", R"("::1")"), R"(remote: IPv6 address "::1" in a family 4 socket)"},
      {good_line_with("local", "17"), "local: expected a string, got 17"},
      {good_line_with("lport", "65536"), "lport: expected an integer 0..65535, got 65536"},
      {good_line_with("rport", "-1"), "rport: expected an integer 0..65535, got -1"},
      {good_line_with("rport", "80.5"), "rport: expected an integer 0..65535, got 80.5"},
      {good_line_with("timer", "256"), "timer: expected an integer 0..255, got 256"},
      {good_line_with("v6only", "2"), "v6only: expected null, 0 or 1, got 2"},
      {good_line_with("bind_address_no_port", "1"),
       "bind_address_no_port: expected true or false, got 1"},
  };
  for (const Case& c : cases) {
    // The bad line comes third, after a blank line, which is skipped but counted.
    write_file(path_, header_line() + "\n" + c.line + "\n" + kGoodLine + "\n");
    EXPECT_EQ(input_error(path_), path_ + ":3: " + c.message);
  }
  nlohmann::json missing = nlohmann::json::parse(kGoodLine);
  missing.erase("inode");
  write_file(path_, header_line() + kGoodLine + "\n" + missing.dump() + "\n");
  EXPECT_EQ(input_error(path_), path_ + ":3: missing \"inode\"");
}

TEST_F(CaptureFileTest, TruncatedLastLineIsReported) {
  std::string line = kGoodLine;
  write_file(path_, header_line() + line + "\n" + line.substr(0, 50));
  EXPECT_EQ(input_error(path_).substr(0, path_.size() + 22), path_ + ":3: malformed JSON at ");
}

TEST_F(CaptureFileTest, RejectsAListenerAfterOtherTcpSockets) {
  std::string listener = good_line_with("state", R"("LISTEN")");
  std::string bound = good_line_with("state", R"("CLOSE")");
  std::string udp = good_line_with("proto", R"("udp")");
  // UDP sockets do not take part in the ordering contract.
  write_file(path_, header_line() + udp + "\n" + listener + "\n" + bound + "\n" + kGoodLine + "\n");
  EXPECT_EQ(load(path_).size(), 4U);
  write_file(path_, header_line() + listener + "\n" + kGoodLine + "\n" + bound + "\n");
  EXPECT_EQ(input_error(path_),
            path_ +
                ":4: TCP CLOSE socket after other TCP sockets (a capture lists TCP LISTEN "
                "and bound-only sockets first)");
}

TEST_F(CaptureFileTest, ToleratesCrLfAndUnknownFields) {
  std::string extra = good_line_with("future_field", R"({"x":1})");
  write_file(path_, header_line() + extra + "\r\n");
  std::vector<SocketRecord> records = load(path_);
  ASSERT_EQ(records.size(), 1U);
  EXPECT_EQ(records[0].inode, 1234U);
  EXPECT_EQ(records[0].v6only, -1);
}

}  // namespace
}  // namespace ephport

namespace ephport {
namespace {

// `analyze` must reproduce #OfPids: owners travel with the capture.
TEST(CaptureExtrasTest, PidsAndProcessCountsRoundTrip) {
  testing::TempDir dir;
  std::string path = dir.file("owners.jsonl");
  const OwnerScan owners{OwnerMethod::bpf, 42, 1};
  const std::vector<uint32_t> owner_pids{812, 900};
  SocketRecord owned = make(Protocol::tcp, Address::Family::v4, SockState::established, "127.0.0.1",
                            40000, "127.0.0.1", 8080);
  owned.inode = 1234;
  owned.pids = owner_pids;
  SocketRecord orphan = owned;
  orphan.inode = 0;
  orphan.pids = {};
  orphan.state = SockState::time_wait;
  {
    CaptureWriter writer(path);
    writer.write_host(sample_host(), &owners);
    writer.add(owned);
    writer.add(orphan);
    writer.finish();
  }
  EXPECT_NE(testing::read_file(path).find(R"("bind_address_no_port":false,"pids":[812,900]})"),
            std::string::npos);
  CaptureExtras read;
  bool resolved_before_first_socket = false;
  std::vector<std::vector<uint32_t>> seen;
  read_capture(
      path, [&](const HostFacts&) { resolved_before_first_socket = read.owners.has_value(); },
      [&](const SocketRecord& record) {
        seen.emplace_back(record.pids.begin(), record.pids.end());
      },
      &read);
  EXPECT_TRUE(resolved_before_first_socket);
  EXPECT_EQ(read.owners->processes_scanned, 42u);
  EXPECT_EQ(read.owners->processes_unreadable, 1u);
  ASSERT_EQ(seen.size(), 2u);
  EXPECT_EQ(seen[0], (std::vector<uint32_t>{812, 900}));
  EXPECT_TRUE(seen[1].empty());
}

TEST(CaptureExtrasTest, WithoutOwnersNothingIsResolved) {
  testing::TempDir dir;
  std::string path = dir.file("plain.jsonl");
  {
    CaptureWriter writer(path);
    writer.write_host(sample_host());
    writer.finish();
  }
  CaptureExtras read;
  read_capture(
      path, HostVisitor{}, [](const SocketRecord&) {}, &read);
  EXPECT_FALSE(read.owners.has_value());
}

}  // namespace
}  // namespace ephport

namespace ephport {
namespace {

// With BPF the sample's bind state is exact; analyze must replay it.
TEST(CaptureExtrasTest, ExactBindStateRoundTrips) {
  testing::TempDir dir;
  std::string path = dir.file("bind.jsonl");
  PortSet bind_owned;
  bind_owned.insert(40001);
  bind_owned.insert(40007);
  {
    CaptureWriter writer(path);
    writer.write_host(sample_host(), nullptr, &bind_owned);
    writer.finish();
  }
  EXPECT_NE(testing::read_file(path).find(
                R"("owners":null,"bind_owned":[40001,40007],"local_addresses":null})"),
            std::string::npos);
  CaptureExtras read;
  read_capture(
      path, HostVisitor{}, [](const SocketRecord&) {}, &read);
  ASSERT_TRUE(read.bind_owned.has_value());
  EXPECT_EQ(read.bind_owned->size(), 2u);
  EXPECT_TRUE(read.bind_owned->contains(40007));
}

}  // namespace
}  // namespace ephport
