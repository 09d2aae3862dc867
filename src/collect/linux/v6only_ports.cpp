#include "collect/linux/v6only_ports.h"

namespace ephport {

int8_t walked_v6only(const SocketRecord& socket, const V6OnlyPorts& walked) {
  if (socket.v6only >= 0 || !socket.local.is_v6()) {
    return socket.v6only;
  }
  if (walked.dual_stack.contains(socket.local_port)) {
    return 0;
  }
  return walked.v6only.contains(socket.local_port) ? 1 : -1;
}

}  // namespace ephport
