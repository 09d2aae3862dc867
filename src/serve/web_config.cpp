#include "serve/web_config.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>
#include <yaml-cpp/yaml.h>

#include <cerrno>
#include <cstring>
#include <set>

#include "util/error.h"
#include "util/escape.h"
#include "util/fd.h"

namespace ephport {

namespace {

// A web config is a few hundred bytes; a thousand users are 100 KB.
constexpr size_t kMaxConfigBytes = size_t{1} << 20;
// How much of a key or a value from the file a message quotes.
constexpr size_t kMaxQuotedBytes = 200;

class Reader {
 public:
  explicit Reader(std::string path) : path_(std::move(path)) {
    size_t slash = path_.rfind('/');
    directory_ = slash == std::string::npos ? std::string() : path_.substr(0, slash + 1);
  }

  // `key` and `why` may quote the file: escaped and bounded here.
  [[noreturn]] void fail(const std::string& key, const std::string& why) const {
    throw InputError("--web.config.file " + path_ + ": " +
                     (key.empty() ? "" : excerpt(key, kMaxQuotedBytes) + ": ") +
                     excerpt(why, 4 * kMaxQuotedBytes));
  }

  // Every key of `node` must be in `known`; keys of the format that ephport
  // does not implement get their own message.
  void check_keys(const YAML::Node& node, const std::string& where,
                  const std::set<std::string>& known,
                  const std::set<std::string>& unsupported) const {
    if (!node.IsMap()) {
      fail(where, "expected a mapping");
    }
    std::set<std::string> seen;
    for (const auto& entry : node) {
      std::string key = entry.first.as<std::string>();
      std::string full = where;
      if (!full.empty()) {
        full += '.';
      }
      full += key;
      if (!seen.insert(key).second) {
        fail(full, "duplicate key");
      }
      if (unsupported.count(key) != 0) {
        fail(full, "is part of the exporter-toolkit format but not supported by ephport");
      }
      if (known.count(key) == 0) {
        fail(full, "unknown key");
      }
    }
  }

  std::string scalar(const YAML::Node& node, const std::string& key) const {
    if (!node.IsScalar()) {
      fail(key, "expected a string");
    }
    return node.as<std::string>();
  }

  // A file path relative to the config file's directory, checked readable.
  std::string readable_file(const YAML::Node& node, const std::string& key) const {
    std::string path = scalar(node, key);
    if (path.empty()) {
      fail(key, "empty path");
    }
    if (path.front() != '/') {
      path = directory_ + path;
    }
    struct stat info {};
    if (::access(path.c_str(), R_OK) != 0 || ::stat(path.c_str(), &info) != 0) {
      fail(key, excerpt(path, kMaxQuotedBytes) + ": " + std::strerror(errno));
    }
    if (S_ISDIR(info.st_mode)) {
      fail(key, excerpt(path, kMaxQuotedBytes) + ": is a directory");
    }
    return path;
  }

  TlsServerConfig tls(const YAML::Node& node) const {
    const std::string where = "tls_server_config";
    check_keys(node, where,
               {"cert_file", "key_file", "client_auth_type", "client_ca_file", "min_version",
                "max_version"},
               {"cert", "key", "client_allowed_sans", "cipher_suites", "curve_preferences",
                "prefer_server_cipher_suites"});
    TlsServerConfig tls;
    if (!node["cert_file"] || !node["key_file"]) {
      fail(where, "needs both cert_file and key_file");
    }
    tls.cert_file = readable_file(node["cert_file"], where + ".cert_file");
    tls.key_file = readable_file(node["key_file"], where + ".key_file");
    if (node["client_auth_type"]) {
      static const std::map<std::string, ClientAuth> kTypes = {
          {"NoClientCert", ClientAuth::none},
          {"RequestClientCert", ClientAuth::request},
          {"RequireAnyClientCert", ClientAuth::require_any},
          {"VerifyClientCertIfGiven", ClientAuth::verify_if_given},
          {"RequireAndVerifyClientCert", ClientAuth::require_and_verify}};
      std::string text = scalar(node["client_auth_type"], where + ".client_auth_type");
      auto found = kTypes.find(text);
      if (found == kTypes.end()) {
        fail(where + ".client_auth_type",
             "'" + excerpt(text) +
                 "' is not one of NoClientCert, RequestClientCert, RequireAnyClientCert, "
                 "VerifyClientCertIfGiven, RequireAndVerifyClientCert");
      }
      tls.client_auth = found->second;
    }
    if (node["client_ca_file"]) {
      tls.client_ca_file = readable_file(node["client_ca_file"], where + ".client_ca_file");
    }
    bool verifies = tls.client_auth == ClientAuth::verify_if_given ||
                    tls.client_auth == ClientAuth::require_and_verify;
    if (verifies && tls.client_ca_file.empty()) {
      fail(where + ".client_ca_file", "required to verify client certificates");
    }
    if (!verifies && !tls.client_ca_file.empty()) {
      fail(where + ".client_auth_type",
           "client_ca_file is set but the client auth type does not verify client certificates "
           "(use VerifyClientCertIfGiven or RequireAndVerifyClientCert)");
    }
    auto version = [&](const char* key) {
      std::string text = scalar(node[key], where + "." + key);
      auto parsed = parse_tls_version(text);
      if (!parsed) {
        fail(where + "." + key, "'" + excerpt(text) + "' is not one of TLS10, TLS11, TLS12, TLS13");
      }
      return *parsed;
    };
    if (node["min_version"]) {
      tls.min_version = version("min_version");
    }
    if (node["max_version"]) {
      tls.max_version = version("max_version");
      if (*tls.max_version < tls.min_version) {
        fail(where + ".max_version", "is below min_version");
      }
    }
    return tls;
  }

  std::map<std::string, std::string> users(const YAML::Node& node) const {
    const std::string where = "basic_auth_users";
    if (!node.IsMap()) {
      fail(where, "expected a mapping of user names to bcrypt hashes");
    }
    std::map<std::string, std::string> users;
    for (const auto& entry : node) {
      std::string user = entry.first.as<std::string>();
      if (user.empty() || user.find_first_of(std::string(":\0", 2)) != std::string::npos) {
        fail(where,
             "'" + excerpt(user) + "' is not a valid user name (empty, or containing ':' or NUL)");
      }
      std::string key = where + ".";
      key += user;
      if (users.count(user) != 0) {
        fail(key, "duplicate user");
      }
      std::string hash = scalar(entry.second, key);
      if (hash.find('\0') != std::string::npos) {
        fail(key, "a NUL character in the hash");
      }
      users[user] = std::move(hash);
    }
    return users;
  }

  // The file's text: a regular file of at most kMaxConfigBytes, else an
  // InputError naming it (a directory was an "internal error").
  std::string read_whole() const {
    UniqueFd fd(::open(path_.c_str(), O_RDONLY | O_CLOEXEC));
    struct stat info {};
    if (!fd.valid() || ::fstat(fd.get(), &info) != 0) {
      fail("", std::strerror(errno));
    }
    if (!S_ISREG(info.st_mode)) {
      fail("", S_ISDIR(info.st_mode) ? "is a directory" : "not a regular file");
    }
    std::string text;
    char chunk[4096];
    for (;;) {
      ssize_t got = ::read(fd.get(), chunk, sizeof chunk);
      if (got < 0 && errno == EINTR) {
        continue;
      }
      if (got < 0) {
        fail("", std::strerror(errno));
      }
      if (got == 0) {
        return text;
      }
      text.append(chunk, static_cast<size_t>(got));
      if (text.size() > kMaxConfigBytes) {
        fail("", fmt::format("longer than {} bytes", kMaxConfigBytes));
      }
    }
  }

 private:
  std::string path_;
  std::string directory_;
};

}  // namespace

std::optional<TlsVersion> parse_tls_version(const std::string& text) {
  static const std::map<std::string, TlsVersion> kVersions = {{"TLS10", TlsVersion::tls10},
                                                              {"TLS11", TlsVersion::tls11},
                                                              {"TLS12", TlsVersion::tls12},
                                                              {"TLS13", TlsVersion::tls13}};
  auto found = kVersions.find(text);
  return found == kVersions.end() ? std::nullopt : std::optional<TlsVersion>(found->second);
}

WebConfig load_web_config(const std::string& path) {
  Reader reader(path);
  YAML::Node root;
  try {
    root = YAML::Load(reader.read_whole());
  } catch (const YAML::Exception& error) {
    reader.fail("", std::string("not valid YAML: ") + error.what());
  }
  WebConfig config;
  if (root.IsNull()) {
    return config;  // an empty file: plain HTTP, no authentication, as in the exporter-toolkit
  }
  try {
    reader.check_keys(root, "", {"tls_server_config", "basic_auth_users"},
                      {"http_server_config", "rate_limit"});
    if (root["tls_server_config"] && !root["tls_server_config"].IsNull()) {
      config.tls = reader.tls(root["tls_server_config"]);
    }
    if (root["basic_auth_users"] && !root["basic_auth_users"].IsNull()) {
      config.basic_auth_users = reader.users(root["basic_auth_users"]);
    }
  } catch (const YAML::Exception& error) {
    reader.fail("", error.what());
  }
  return config;
}

}  // namespace ephport
