// --web.config.file (serve/web_config.h): the exporter-toolkit keys ephport
// implements, and one clear InputError for everything else.

#include "serve/web_config.h"

#include <gtest/gtest.h>

#include "temp_dir.h"
#include "util/error.h"

namespace ephport {
namespace {

using testing::TempDir;
using testing::write_file;

class WebConfigTest : public ::testing::Test {
 protected:
  void SetUp() override {
    write_file(dir_.file("server.crt"), "cert");
    write_file(dir_.file("server.key"), "key");
    write_file(dir_.file("ca.crt"), "ca");
  }
  std::string config(const std::string& yaml) {
    write_file(dir_.file("web.yml"), yaml);
    return dir_.file("web.yml");
  }
  void expect_error(const std::string& yaml, const std::string& needle) {
    try {
      load_web_config(config(yaml));
      ADD_FAILURE() << "no error for:\n" << yaml;
    } catch (const InputError& error) {
      std::string message = error.what();
      EXPECT_NE(message.find(needle), std::string::npos) << message;
      EXPECT_NE(message.find("--web.config.file " + dir_.file("web.yml")), std::string::npos)
          << message;
      EXPECT_EQ(message.find('\n'), std::string::npos) << "one line: " << message;
    }
  }
  TempDir dir_;
};

TEST_F(WebConfigTest, FullConfigWithRelativePaths) {
  WebConfig web = load_web_config(config(R"(
tls_server_config:
  cert_file: server.crt
  key_file: server.key
  client_auth_type: RequireAndVerifyClientCert
  client_ca_file: ca.crt
  min_version: TLS13
basic_auth_users:
  prometheus: $2y$10$abcdefghijklmnopqrstuu
  other: "$2b$04$x"
)"));
  ASSERT_TRUE(web.tls);
  EXPECT_EQ(web.tls->cert_file, dir_.file("server.crt"));
  EXPECT_EQ(web.tls->key_file, dir_.file("server.key"));
  EXPECT_EQ(web.tls->client_ca_file, dir_.file("ca.crt"));
  EXPECT_EQ(web.tls->client_auth, ClientAuth::require_and_verify);
  EXPECT_EQ(web.tls->min_version, TlsVersion::tls13);
  EXPECT_FALSE(web.tls->max_version);
  ASSERT_EQ(web.basic_auth_users.size(), 2u);
  EXPECT_EQ(web.basic_auth_users["prometheus"], "$2y$10$abcdefghijklmnopqrstuu");
}

TEST_F(WebConfigTest, DefaultsAndEmptyFile) {
  WebConfig web =
      load_web_config(config("tls_server_config:\n  cert_file: " + dir_.file("server.crt") +
                             "\n  key_file: server.key\n"));
  ASSERT_TRUE(web.tls);
  EXPECT_EQ(web.tls->client_auth, ClientAuth::none);
  EXPECT_EQ(web.tls->min_version, TlsVersion::tls12);
  EXPECT_TRUE(web.basic_auth_users.empty());

  WebConfig empty = load_web_config(config(""));
  EXPECT_FALSE(empty.tls);
  EXPECT_TRUE(empty.basic_auth_users.empty());
}

TEST_F(WebConfigTest, EveryMistakeIsOneLineNamingTheKey) {
  expect_error("tls_server_config: {cert_file: server.crt}\n", "needs both cert_file and key_file");
  expect_error(
      "tls_server_config: {cert_file: nope.crt, key_file: server.key}\n",
      "tls_server_config.cert_file: " + dir_.file("nope.crt") + ": No such file or directory");
  expect_error("tls_config: {}\n", "tls_config: unknown key");
  expect_error("tls_server_config: {cert_file: server.crt, key_file: server.key, ciphers: x}\n",
               "tls_server_config.ciphers: unknown key");
  expect_error("http_server_config: {http2: false}\n",
               "http_server_config: is part of the exporter-toolkit format but not supported");
  expect_error(
      "tls_server_config: {cert_file: server.crt, key_file: server.key, cipher_suites: [x]}\n",
      "tls_server_config.cipher_suites: is part of the exporter-toolkit format");
  expect_error(
      "tls_server_config: {cert_file: server.crt, key_file: server.key, client_auth_type: "
      "Always}\n",
      "client_auth_type: 'Always' is not one of");
  expect_error(
      "tls_server_config: {cert_file: server.crt, key_file: server.key, client_auth_type: "
      "RequireAndVerifyClientCert}\n",
      "client_ca_file: required to verify client certificates");
  expect_error(
      "tls_server_config: {cert_file: server.crt, key_file: server.key, client_ca_file: ca.crt}\n",
      "client_ca_file is set but the client auth type does not verify");
  expect_error(
      "tls_server_config: {cert_file: server.crt, key_file: server.key, min_version: TLS1.2}\n",
      "min_version: 'TLS1.2' is not one of TLS10, TLS11, TLS12, TLS13");
  expect_error(
      "tls_server_config: {cert_file: server.crt, key_file: server.key, min_version: TLS13, "
      "max_version: TLS12}\n",
      "max_version: is below min_version");
  expect_error("basic_auth_users: [a, b]\n", "basic_auth_users: expected a mapping");
  expect_error("basic_auth_users: {\"a:b\": x}\n", "'a:b' is not a valid user name");
  expect_error("basic_auth_users: {a: [x]}\n", "basic_auth_users.a: expected a string");
  expect_error("tls_server_config: [\n", "not valid YAML");
  expect_error("- a\n- b\n", "expected a mapping");
}

TEST_F(WebConfigTest, MissingFile) {
  try {
    load_web_config(dir_.file("absent.yml"));
    ADD_FAILURE() << "no error";
  } catch (const InputError& error) {
    EXPECT_EQ(std::string(error.what()),
              "--web.config.file " + dir_.file("absent.yml") + ": No such file or directory");
  }
}

}  // namespace
}  // namespace ephport
