#pragma once
// --web.config.file: the Prometheus exporter-toolkit format
// (prometheus/exporter-toolkit docs/web-configuration.md), the subset
// ephport implements:
//
//   tls_server_config:
//     cert_file: server.crt          # both or neither
//     key_file: server.key
//     client_auth_type: RequireAndVerifyClientCert   # default NoClientCert
//     client_ca_file: clients-ca.crt # with a verifying client_auth_type
//     min_version: TLS12             # TLS10..TLS13, default TLS12
//     max_version: TLS13
//   basic_auth_users:
//     prometheus: $2y$10$...         # bcrypt
//
// The file is read once, at start, and validated whole: a missing or
// unreadable file, a directory, a file over 1 MiB, bad YAML, a duplicate key
// (or user), a NUL in a user name or hash, an unknown key, a key of the format that
// ephport does not implement (cipher_suites, http_server_config, ...), an
// unreadable certificate file or a bad value throws InputError naming the
// file and the key. Relative paths are taken from the file's directory, as
// the exporter-toolkit does. Text quoted from the file in a message is
// escaped and cut short (util/escape.h). Hashes are checked by BasicAuth.

#include <map>
#include <optional>
#include <string>

namespace ephport {

enum class ClientAuth {
  none,                // NoClientCert
  request,             // RequestClientCert: asked for, not required, not verified
  require_any,         // RequireAnyClientCert: required, not verified
  verify_if_given,     // VerifyClientCertIfGiven
  require_and_verify,  // RequireAndVerifyClientCert
};

enum class TlsVersion { tls10, tls11, tls12, tls13 };

struct TlsServerConfig {
  std::string cert_file;
  std::string key_file;
  ClientAuth client_auth = ClientAuth::none;
  std::string client_ca_file;  // "" = none
  TlsVersion min_version = TlsVersion::tls12;
  std::optional<TlsVersion> max_version;
};

struct WebConfig {
  std::optional<TlsServerConfig> tls;                   // empty: plain HTTP
  std::map<std::string, std::string> basic_auth_users;  // user -> bcrypt hash; empty: no auth
};

WebConfig load_web_config(const std::string& path);

// "TLS12" etc.; nullopt for anything else.
std::optional<TlsVersion> parse_tls_version(const std::string& text);

}  // namespace ephport
