#include "serve/web_config.h"

#include <unistd.h>
#include <yaml-cpp/yaml.h>

#include <cerrno>
#include <cstring>
#include <set>

#include "util/error.h"

namespace ephport {

namespace {

class Reader {
 public:
  explicit Reader(std::string path) : path_(std::move(path)) {
    size_t slash = path_.rfind('/');
    directory_ = slash == std::string::npos ? std::string() : path_.substr(0, slash + 1);
  }

  [[noreturn]] void fail(const std::string& key, const std::string& why) const {
    throw InputError("--web.config.file " + path_ + ": " + (key.empty() ? "" : key + ": ") + why);
  }

  // Every key of `node` must be in `known`; keys of the format that ephport
  // does not implement get their own message.
  void check_keys(const YAML::Node& node, const std::string& where,
                  const std::set<std::string>& known,
                  const std::set<std::string>& unsupported) const {
    if (!node.IsMap()) {
      fail(where, "expected a mapping");
    }
    for (const auto& entry : node) {
      std::string key = entry.first.as<std::string>();
      std::string full = where;
      if (!full.empty()) {
        full += '.';
      }
      full += key;
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
    if (::access(path.c_str(), R_OK) != 0) {
      fail(key, path + ": " + std::strerror(errno));
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
             "'" + text +
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
        fail(where + "." + key, "'" + text + "' is not one of TLS10, TLS11, TLS12, TLS13");
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
      if (user.empty() || user.find(':') != std::string::npos) {
        fail(where, "'" + user + "' is not a valid user name (empty or containing ':')");
      }
      std::string key = where + ".";
      key += user;
      users[user] = scalar(entry.second, key);
    }
    return users;
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
  if (::access(path.c_str(), R_OK) != 0) {
    reader.fail("", std::strerror(errno));
  }
  YAML::Node root;
  try {
    root = YAML::LoadFile(path);
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
