#include "serve/basic_auth.h"

#include <crypt.h>
#include <fmt/format.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>

#include <algorithm>
#include <cctype>
#include <memory>
#include <optional>

#include "util/error.h"
#include "util/escape.h"

namespace ephport {

namespace {

// Remembered successes; past this many the set starts again, so a client
// cycling through passwords that work cannot grow it without bound.
constexpr size_t kCacheLimit = 256;

// struct crypt_data is 32 KiB: on the heap, one per call.
std::optional<std::string> bcrypt(const std::string& password, const std::string& setting) {
  auto data = std::make_unique<crypt_data>();
  const char* result = crypt_rn(password.c_str(), setting.c_str(), data.get(), sizeof(*data));
  // Failure is NULL or a string starting with '*' (crypt(5)).
  if (result == nullptr || result[0] == '*') {
    return std::nullopt;
  }
  return std::string(result);
}

// $2?$NN$ then 53 characters of bcrypt's base64 alphabet: no NUL (which
// would cut the hash short for crypt_rn) and nothing else.
bool is_bcrypt(const std::string& hash) {
  auto is_base64 = [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '.' || c == '/';
  };
  return hash.size() == 60 &&
         (hash.rfind("$2y$", 0) == 0 || hash.rfind("$2b$", 0) == 0 || hash.rfind("$2a$", 0) == 0) &&
         std::isdigit(static_cast<unsigned char>(hash[4])) != 0 &&
         std::isdigit(static_cast<unsigned char>(hash[5])) != 0 && hash[6] == '$' &&
         std::all_of(hash.begin() + 7, hash.end(), is_base64);
}

int bcrypt_cost(const std::string& hash) {
  return (hash[4] - '0') * 10 + (hash[5] - '0');
}

std::string sha256(const std::string& text) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  if (EVP_Digest(text.data(), text.size(), digest, &length, EVP_sha256(), nullptr) != 1) {
    throw RuntimeError("SHA-256 failed");
  }
  return {reinterpret_cast<const char*>(digest), length};
}

// RFC 7617: "Basic" (any case), one or more spaces, base64 of user:password.
std::optional<std::pair<std::string, std::string>> parse_basic(std::string_view header) {
  constexpr std::string_view kScheme = "basic";
  if (header.size() <= kScheme.size() || header[kScheme.size()] != ' ') {
    return std::nullopt;
  }
  for (size_t i = 0; i < kScheme.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(header[i])) != kScheme[i]) {
      return std::nullopt;
    }
  }
  std::string_view encoded = header.substr(kScheme.size());
  while (!encoded.empty() && encoded.front() == ' ') {
    encoded.remove_prefix(1);
  }
  while (!encoded.empty() && encoded.back() == ' ') {
    encoded.remove_suffix(1);
  }
  if (encoded.empty() || encoded.size() % 4 != 0 || encoded.size() > 4096) {
    return std::nullopt;
  }
  std::string decoded(encoded.size() / 4 * 3, '\0');
  int length = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(decoded.data()),
                               reinterpret_cast<const unsigned char*>(encoded.data()),
                               static_cast<int>(encoded.size()));
  if (length < 0) {
    return std::nullopt;
  }
  // EVP_DecodeBlock counts the bytes the '=' padding stands for.
  size_t padding = encoded.size() - encoded.find_last_not_of('=') - 1;
  if (padding > 2) {
    return std::nullopt;
  }
  decoded.resize(static_cast<size_t>(length) - padding);
  size_t colon = decoded.find(':');
  if (colon == std::string::npos) {
    return std::nullopt;
  }
  return std::make_pair(decoded.substr(0, colon), decoded.substr(colon + 1));
}

}  // namespace

BasicAuth::BasicAuth(std::map<std::string, std::string> users) : users_(std::move(users)) {
  int cost = 0;
  for (const auto& [user, hash] : users_) {
    // Checked before the first bcrypt: a cost of 31 would hang start-up
    // for days without a word.
    if (is_bcrypt(hash) && bcrypt_cost(hash) > kMaxBcryptCost) {
      throw InputError(fmt::format(
          "basic_auth_users.{}: bcrypt cost {} is above {}, the most ephport accepts (each step "
          "doubles the time of a check: cost {} takes about 1 s a check on a 2026 server core, "
          "10 to 12 is usual); make one with `htpasswd -nBC 12 \"\" | tr -d ':\\n'`",
          excerpt(user), bcrypt_cost(hash), kMaxBcryptCost, kMaxBcryptCost));
    }
    if (!is_bcrypt(hash) || !bcrypt("", hash)) {
      throw InputError("basic_auth_users." + excerpt(user) +
                       ": not a bcrypt hash ($2y$, $2b$ or $2a$, 60 characters); make one with "
                       "`htpasswd -nBC 10 \"\" | tr -d ':\\n'`");
    }
    cost = std::max(cost, bcrypt_cost(hash));
  }
  if (users_.empty()) {
    return;
  }
  // The dummy costs what the most expensive real hash costs.
  char setting[CRYPT_GENSALT_OUTPUT_SIZE];
  if (crypt_gensalt_rn("$2b$", static_cast<unsigned long>(cost), nullptr, 0, setting,
                       sizeof(setting)) == nullptr) {
    throw RuntimeError("cannot make a bcrypt salt (crypt_gensalt_rn)");
  }
  auto dummy = bcrypt("ephport: no such user", setting);
  if (!dummy) {
    throw RuntimeError("cannot compute a bcrypt hash (crypt_rn)");
  }
  dummy_hash_ = *dummy;
}

bool BasicAuth::check_header(std::string_view authorization) {
  auto credentials = parse_basic(authorization);
  return credentials && verify(credentials->first, credentials->second);
}

bool BasicAuth::verify(const std::string& user, const std::string& password) {
  // crypt_rn() reads C strings: "right\0anything" would pass as "right".
  if (password.find('\0') != std::string::npos || user.find('\0') != std::string::npos) {
    return false;
  }
  auto found = users_.find(user);
  const bool known = found != users_.end();
  const std::string& hash = known ? found->second : dummy_hash_;
  std::string key = sha256(user + '\0' + hash + '\0' + password);
  if (known) {
    std::lock_guard lock(cache_mutex_);
    if (verified_.count(key) != 0) {
      return true;
    }
  }
  std::optional<std::string> computed;
  {
    std::lock_guard lock(bcrypt_mutex_);
    ++bcrypt_runs_;
    computed = bcrypt(password, hash);
  }
  bool match = computed && computed->size() == hash.size() &&
               CRYPTO_memcmp(computed->data(), hash.data(), hash.size()) == 0;
  if (!known || !match) {
    return false;
  }
  std::lock_guard lock(cache_mutex_);
  if (verified_.size() >= kCacheLimit) {
    verified_.clear();
  }
  verified_.insert(std::move(key));
  return true;
}

uint64_t BasicAuth::bcrypt_runs() const {
  std::lock_guard lock(bcrypt_mutex_);
  return bcrypt_runs_;
}

}  // namespace ephport
