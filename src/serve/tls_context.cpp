#include "serve/tls_context.h"

#include <openssl/err.h>

namespace ephport {

namespace {

int openssl_version(TlsVersion version) {
  switch (version) {
    case TlsVersion::tls10:
      return TLS1_VERSION;
    case TlsVersion::tls11:
      return TLS1_1_VERSION;
    case TlsVersion::tls12:
      return TLS1_2_VERSION;
    case TlsVersion::tls13:
      return TLS1_3_VERSION;
  }
  return TLS1_2_VERSION;
}

// RequestClientCert and RequireAnyClientCert take any certificate, as Go's
// crypto/tls does for them.
extern "C" int accept_any_certificate(int /*preverified*/, X509_STORE_CTX* /*store*/) {
  return 1;
}

}  // namespace

std::string openssl_errors() {
  std::string text;
  for (unsigned long code = ERR_get_error(); code != 0; code = ERR_get_error()) {
    char buffer[256];
    ERR_error_string_n(code, buffer, sizeof(buffer));
    if (!text.empty()) {
      text += "; ";
    }
    text += buffer;
  }
  return text.empty() ? "unknown OpenSSL error" : text;
}

std::string configure_tls_server(SSL_CTX& context, const TlsServerConfig& config) {
  ERR_clear_error();
  SSL_CTX_set_options(&context, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION);
  if (SSL_CTX_set_min_proto_version(&context, openssl_version(config.min_version)) != 1 ||
      (config.max_version &&
       SSL_CTX_set_max_proto_version(&context, openssl_version(*config.max_version)) != 1)) {
    return "tls_server_config: cannot set the TLS versions: " + openssl_errors();
  }
  if (SSL_CTX_use_certificate_chain_file(&context, config.cert_file.c_str()) != 1) {
    return "tls_server_config.cert_file " + config.cert_file +
           ": not a PEM certificate: " + openssl_errors();
  }
  if (SSL_CTX_use_PrivateKey_file(&context, config.key_file.c_str(), SSL_FILETYPE_PEM) != 1) {
    return "tls_server_config.key_file " + config.key_file +
           ": not a PEM private key: " + openssl_errors();
  }
  if (SSL_CTX_check_private_key(&context) != 1) {
    return "tls_server_config: key_file " + config.key_file + " does not match cert_file " +
           config.cert_file;
  }
  // Client certificates and session resumption need a session id context.
  static const unsigned char kSessionContext[] = "ephport";
  SSL_CTX_set_session_id_context(&context, kSessionContext, sizeof(kSessionContext) - 1);
  if (!config.client_ca_file.empty()) {
    if (SSL_CTX_load_verify_locations(&context, config.client_ca_file.c_str(), nullptr) != 1) {
      return "tls_server_config.client_ca_file " + config.client_ca_file +
             ": not a PEM certificate: " + openssl_errors();
    }
    STACK_OF(X509_NAME)* names = SSL_load_client_CA_file(config.client_ca_file.c_str());
    if (names != nullptr) {
      SSL_CTX_set_client_CA_list(&context, names);  // takes ownership
    }
  }
  switch (config.client_auth) {
    case ClientAuth::none:
      SSL_CTX_set_verify(&context, SSL_VERIFY_NONE, nullptr);
      break;
    case ClientAuth::request:
      SSL_CTX_set_verify(&context, SSL_VERIFY_PEER, accept_any_certificate);
      break;
    case ClientAuth::require_any:
      SSL_CTX_set_verify(&context, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT,
                         accept_any_certificate);
      break;
    case ClientAuth::verify_if_given:
      SSL_CTX_set_verify(&context, SSL_VERIFY_PEER, nullptr);
      break;
    case ClientAuth::require_and_verify:
      SSL_CTX_set_verify(&context, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, nullptr);
      break;
  }
  return "";
}

}  // namespace ephport
