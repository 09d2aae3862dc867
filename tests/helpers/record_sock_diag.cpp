// Records a raw sock_diag dump of the current network namespace, the way
// ephport collects it (same requests, same order), for test fixtures:
//   record_sock_diag FILE
// FILE gets each request and each reply datagram, concatenated;
// replay_sock_diag() decodes it. See tests/fixtures/sock_diag/README.md.

#include <cstdio>
#include <fstream>
#include <iostream>

#include "collect/linux/sock_diag.h"

int main(int argc, char** argv) {
  if (argc != 2) {
    std::cerr << "usage: record_sock_diag FILE\n";
    return 2;
  }
  std::ofstream out(argv[1], std::ios::binary | std::ios::trunc);
  if (!out) {
    std::perror(argv[1]);
    return 1;
  }
  size_t sockets = 0;
  try {
    ephport::SockDiagOptions options;
    options.record = [&](std::span<const uint8_t> bytes) {
      out.write(reinterpret_cast<const char*>(bytes.data()),
                static_cast<std::streamsize>(bytes.size()));
    };
    ephport::dump_sock_diag(options, [&](const ephport::SocketRecord&) { ++sockets; });
  } catch (const std::exception& error) {
    std::cerr << "record_sock_diag: " << error.what() << "\n";
    return 1;
  }
  out.close();
  if (!out) {
    std::perror(argv[1]);
    return 1;
  }
  std::cerr << "record_sock_diag: " << sockets << " sockets recorded in " << argv[1] << "\n";
  return 0;
}
