#pragma once
// HTTP basic authentication against bcrypt hashes (basic_auth_users of
// --web.config.file), the way the exporter-toolkit does it:
// - every hash is checked at start ($2y$, $2b$ or $2a$, bcrypt's alphabet,
//   a cost of at most kMaxBcryptCost, and libcrypt accepts it): a bad one
//   throws InputError naming the user;
// - a password or user name holding a NUL is refused (crypt reads C
//   strings, so "right\0anything" would otherwise pass as "right");
// - an unknown user is checked against a dummy hash of the same cost, so the
//   answer takes as long as for a known user (no user enumeration by timing);
// - a successful (user, password) is remembered (as a SHA-256 of both, never
//   the password), so a scrape every 15 s does not pay a bcrypt each time;
//   failures are never remembered;
// - bcrypt runs one at a time: a flood of bad passwords costs one core.
// Thread-safe.

#include <cstdint>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <string_view>

namespace ephport {

// The highest bcrypt cost accepted. Each step doubles the work of a check:
// measured with libxcrypt on the test machine, cost 10 takes 0.07 s, 12
// 0.27 s, 14 1.05 s, 15 2.0 s. exporter-toolkit users commonly use 10-12;
// 14 still answers a first scrape well within Prometheus' 10 s default
// timeout, while above it a few wrong passwords (checks run one at a time)
// hold every scrape for seconds. A cost of 31 would take days.
inline constexpr int kMaxBcryptCost = 14;

class BasicAuth {
 public:
  // user -> bcrypt hash; empty: authentication off.
  explicit BasicAuth(std::map<std::string, std::string> users);

  bool enabled() const { return !users_.empty(); }

  // The value of an Authorization header: true when it is "Basic" with a
  // configured user and that user's password.
  bool check_header(std::string_view authorization);
  bool verify(const std::string& user, const std::string& password);

  // bcrypt computations run so far (for tests of the cache).
  uint64_t bcrypt_runs() const;

 private:
  std::map<std::string, std::string> users_;
  std::string dummy_hash_;
  mutable std::mutex bcrypt_mutex_;  // serialises bcrypt
  uint64_t bcrypt_runs_ = 0;
  std::mutex cache_mutex_;
  std::set<std::string> verified_;  // SHA-256 of user, hash and password
};

}  // namespace ephport
