#pragma once
// The server's TLS settings (tls_server_config of --web.config.file) applied
// to an OpenSSL context: certificate chain and key (checked to match),
// protocol versions, client certificate policy and CA.

#include <openssl/ssl.h>

#include <string>

#include "serve/web_config.h"

namespace ephport {

// Configures `context`. Returns "" on success, else one line saying what is
// wrong (which file, OpenSSL's reason).
std::string configure_tls_server(SSL_CTX& context, const TlsServerConfig& config);

// The reasons on OpenSSL's error queue, "; "-separated (the queue is emptied).
std::string openssl_errors();

}  // namespace ephport
