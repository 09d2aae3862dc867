#include "collect/import/bundle_files.h"

#include <fmt/format.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <iterator>
#include <limits>
#include <nlohmann/json.hpp>
#include <optional>
#include <string_view>
#include <unordered_map>
#include <utility>

#include "util/error.h"
#include "util/escape.h"
#include "util/outside_json.h"

namespace ephport {

namespace {

using json = nlohmann::json;

// Counts the bytes of the value being read and refuses one longer than
// kMaxRecordedValueBytes: the JSON parser holds a whole string or number
// before handing it over, so without this a file of one huge string would
// cost its size in memory.
class ValueLengthGuard {
 public:
  void see(char c) {
    if (in_string_) {
      if (escaped_) {
        escaped_ = false;
      } else if (c == '\\') {
        escaped_ = true;
      } else if (c == '"') {
        in_string_ = false;
        length_ = 0;
        return;
      }
      count();
      return;
    }
    if (c == '"') {
      in_string_ = true;
      length_ = 0;
    } else if (std::string_view("{}[],: \t\n\r").find(c) != std::string_view::npos) {
      length_ = 0;  // between values
    } else {
      count();  // a number or a literal
    }
  }

 private:
  void count() {
    if (++length_ > kMaxRecordedValueBytes) {
      throw InputError(fmt::format("a value longer than {} bytes (not what ephport writes)",
                                   kMaxRecordedValueBytes));
    }
  }

  bool in_string_ = false;
  bool escaped_ = false;
  size_t length_ = 0;
};

// The file's characters for the JSON parser, each seen by the guard first.
class GuardedChars {
 public:
  using iterator_category = std::input_iterator_tag;
  using value_type = char;
  using difference_type = std::ptrdiff_t;
  using pointer = const char*;
  using reference = char;

  GuardedChars() = default;  // the end
  GuardedChars(std::istreambuf_iterator<char> at, ValueLengthGuard& guard)
      : at_(at), guard_(&guard) {}

  char operator*() const { return *at_; }
  GuardedChars& operator++() {
    guard_->see(*at_);
    ++at_;
    return *this;
  }
  GuardedChars operator++(int) {
    GuardedChars before = *this;
    ++*this;
    return before;
  }
  bool operator==(const GuardedChars& other) const { return at_ == other.at_; }
  bool operator!=(const GuardedChars& other) const { return !(*this == other); }

 private:
  std::istreambuf_iterator<char> at_;
  ValueLengthGuard* guard_ = nullptr;
};

// Builds RecordedIdentities from the parser's events: the root's "schema"
// and "time", and the identity fields of each element of "processes";
// everything else is skipped as it streams by.
class IdentitiesReader : public nlohmann::json_sax<json> {
 public:
  explicit IdentitiesReader(const std::unordered_set<uint32_t>& wanted) : wanted_(wanted) {}

  RecordedIdentities finish() {
    if (!schema_) {
      throw InputError(fmt::format("not an {} file (no \"schema\")", kProcessesSchema));
    }
    return std::move(result_);
  }

  bool null() override { return scalar(json(nullptr)); }
  bool boolean(bool value) override { return scalar(json(value)); }
  bool number_integer(number_integer_t value) override { return scalar(json(value)); }
  bool number_unsigned(number_unsigned_t value) override { return scalar(json(value)); }
  bool number_float(number_float_t value, const string_t&) override { return scalar(json(value)); }
  bool string(string_t& value) override {
    if (needs_escaping(value)) {
      value = escape_controls(value);  // names, command lines, paths: outside text
    }
    if (depth_ == 4 && in_unreadable_) {
      process_.unreadable.push_back(std::move(value));
      return true;
    }
    return scalar(json(std::move(value)));
  }
  bool binary(binary_t&) override { return true; }  // never produced by the JSON parser

  bool start_object(std::size_t) override {
    enter(true);
    if (depth_ == 2 && key_ == "processes") {
      throw InputError("processes: expected an array, got an object");
    }
    if (depth_ == 4 && in_processes_ && (is_identity_field(key_) || key_ == "unreadable")) {
      refuse("an object", key_, key_ == "unreadable" ? "an array of strings" : "a value");
    }
    if (depth_ == 3 && in_processes_) {
      process_ = ProcessInfo{};
      pid_.reset();
      ++index_;
    }
    return true;
  }
  bool end_object() override {
    if (depth_ == 3 && in_processes_) {
      finish_process();
    }
    leave();
    return true;
  }
  bool start_array(std::size_t) override {
    enter(false);
    if (depth_ == 2 && key_ == "processes") {
      in_processes_ = true;
    } else if (depth_ == 4 && in_processes_ && key_ == "unreadable") {
      in_unreadable_ = true;
    } else if (depth_ == 4 && in_processes_ && is_identity_field(key_)) {
      refuse("an array", key_, "a value");
    } else if (depth_ == 5 && in_unreadable_) {
      refuse("an array", "unreadable", "an array of strings");
    }
    return true;
  }
  bool end_array() override {
    if (depth_ == 2) {
      in_processes_ = false;
    } else if (depth_ == 4) {
      in_unreadable_ = false;
    }
    leave();
    return true;
  }
  bool key(string_t& name) override {
    key_ = std::move(name);
    return true;
  }
  bool parse_error(std::size_t, const std::string& last_token,
                   const nlohmann::detail::exception& error) override {
    // nlohmann says "[json.exception...] parse error at line 1, column N: why; last read: ...":
    // keep the position, and quote the input short and escaped.
    std::string_view what = error.what();
    const size_t at = what.find("at line ");
    const size_t colon = what.find(": ", at);
    const std::string where = at == std::string_view::npos || colon == std::string_view::npos
                                  ? std::string()
                                  : std::string(what.substr(at, colon - at)) + ": ";
    throw InputError(
        fmt::format("malformed JSON {}{}", where, json_error_reason(error.what(), last_token)));
  }

 private:
  void enter(bool object) {
    if (depth_ == 0 && !object) {
      throw InputError(fmt::format("not an {} file (expected a JSON object)", kProcessesSchema));
    }
    if (++depth_ > kMaxRecordedDepth) {
      throw InputError(
          fmt::format("nested deeper than {} levels (not what ephport writes)", kMaxRecordedDepth));
    }
  }
  void leave() { --depth_; }

  bool scalar(const json& value) {
    if (depth_ == 0) {
      throw InputError(fmt::format("not an {} file (expected a JSON object)", kProcessesSchema));
    }
    if (depth_ == 4 && in_unreadable_) {
      mistyped(value, "unreadable", "an array of strings");
    }
    if (depth_ == 1) {
      root_field(value);
    } else if (depth_ == 3 && in_processes_) {
      process_field(value);
    }
    return true;
  }

  void root_field(const json& value) {
    if (key_ == "schema") {
      if (value != kProcessesSchema) {
        throw InputError(
            fmt::format("schema is {}, expected \"{}\"", excerpt(value.dump()), kProcessesSchema));
      }
      schema_ = true;
    } else if (key_ == "time") {
      result_.time = text(value);
    } else if (key_ == "processes") {
      mistyped(value, "processes", "an array");
    }
  }

  [[noreturn]] void mistyped(const json& value, std::string_view field,
                             std::string_view expected) const {
    std::string shown = value.dump();
    if (shown.size() > 40) {
      shown = shown.substr(0, 40) + "...";
    }
    refuse(shown, field, expected);
  }
  [[noreturn]] void refuse(std::string_view shown, std::string_view field,
                           std::string_view expected) const {
    const std::string where =
        depth_ == 1 ? std::string(field) : fmt::format("processes[{}].{}", index_ - 1, field);
    throw InputError(fmt::format("{}: expected {}, got {}", where, expected, shown));
  }
  // Typed reads of the current key_'s value.
  std::string text(const json& value) const {
    if (!value.is_string()) {
      mistyped(value, key_, "a string");
    }
    return value.get<std::string>();
  }
  std::string text_or_empty(const json& value) const {
    return value.is_null() ? std::string() : text(value);
  }
  bool flag(const json& value) const {
    if (!value.is_boolean()) {
      mistyped(value, key_, "true or false");
    }
    return value.get<bool>();
  }
  template <typename Unsigned>
  Unsigned count(const json& value) const {
    if (!value.is_number_unsigned() ||
        value.get<uint64_t>() > std::numeric_limits<Unsigned>::max()) {
      mistyped(value, key_, "a non-negative integer");
    }
    return static_cast<Unsigned>(value.get<uint64_t>());
  }

  // How each identity field's value is read into a ProcessInfo (key_ is
  // its name, for the messages).
  using Setter = void (*)(const IdentitiesReader&, const json&, ProcessInfo&);
  static Setter setter_of(std::string_view name) {
    using R = const IdentitiesReader&;
    using P = ProcessInfo&;
    static const std::unordered_map<std::string_view, Setter> setters = {
        {"pid", [](R r, const json& v, P p) { p.pid = r.count<uint32_t>(v); }},
        {"name", [](R r, const json& v, P p) { p.name = r.text(v); }},
        {"ppid", [](R r, const json& v, P p) { p.ppid = r.count<uint32_t>(v); }},
        {"exe", [](R r, const json& v, P p) { p.exe = r.text_or_empty(v); }},
        {"cmdline", [](R r, const json& v, P p) { p.cmdline = r.text(v); }},
        {"cmdline_truncated", [](R r, const json& v, P p) { p.cmdline_truncated = r.flag(v); }},
        {"user", [](R r, const json& v, P p) { p.user = r.text(v); }},
        {"uid", [](R r, const json& v, P p) { p.uid = r.count<uint32_t>(v); }},
        {"cgroup", [](R r, const json& v, P p) { p.cgroup = r.text_or_empty(v); }},
        {"unit", [](R r, const json& v, P p) { p.unit = r.text_or_empty(v); }},
        {"container", [](R r, const json& v, P p) { p.container = r.text_or_empty(v); }},
        {"runtime", [](R r, const json& v, P p) { p.runtime = r.text_or_empty(v); }},
        {"pod", [](R r, const json& v, P p) { p.pod = r.text_or_empty(v); }},
        {"fd_count",
         [](R r, const json& v, P p) { p.fd_count = v.is_null() ? -1 : r.count<int64_t>(v); }},
        {"start_time_ticks", [](R r, const json& v, P p) { p.start_time = r.count<uint64_t>(v); }},
    };
    auto found = setters.find(name);
    return found != setters.end() ? found->second : nullptr;
  }
  static bool is_identity_field(std::string_view name) { return setter_of(name) != nullptr; }

  void process_field(const json& value) {
    if (key_ == "unreadable") {
      mistyped(value, key_, "an array of strings");
    }
    if (Setter set = setter_of(key_)) {
      set(*this, value, process_);
      if (key_ == "pid") {
        pid_ = process_.pid;
      }
    }
  }

  void finish_process() {
    if (!pid_) {
      throw InputError(fmt::format("processes[{}]: missing \"pid\"", index_ - 1));
    }
    if (wanted_.count(*pid_) != 0) {
      result_.by_pid.emplace(*pid_, std::move(process_));  // the first one recorded wins
    }
  }

  const std::unordered_set<uint32_t>& wanted_;
  RecordedIdentities result_;
  bool schema_ = false;
  size_t depth_ = 0;
  std::string key_;  // the last key read, at any depth
  bool in_processes_ = false;
  bool in_unreadable_ = false;
  size_t index_ = 0;  // elements of "processes" begun
  ProcessInfo process_;
  std::optional<uint32_t> pid_;
};

}  // namespace

RecordedIdentities read_recorded_identities(const std::string& path,
                                            const std::unordered_set<uint32_t>& wanted) {
  std::ifstream file(path, std::ios::binary);
  if (!file) {
    throw InputError(fmt::format("cannot read {}: {}", path, std::strerror(errno)));
  }
  ValueLengthGuard guard;
  IdentitiesReader reader(wanted);
  try {
    json::sax_parse(GuardedChars(std::istreambuf_iterator<char>(file), guard), GuardedChars(),
                    &reader);
  } catch (const InputError& error) {
    throw InputError(fmt::format("{}: {}", path, error.what()));
  }
  if (file.bad()) {
    throw InputError(fmt::format("cannot read {}: {}", path, std::strerror(EIO)));
  }
  try {
    return reader.finish();
  } catch (const InputError& error) {
    throw InputError(fmt::format("{}: {}", path, error.what()));
  }
}

}  // namespace ephport
