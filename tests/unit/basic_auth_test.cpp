// Basic auth against bcrypt (serve/basic_auth.h): hashes checked at start,
// the right password accepted, wrong ones and unknown users refused after a
// bcrypt of their own, successes cached and failures never.

#include "serve/basic_auth.h"

#include <crypt.h>
#include <gtest/gtest.h>
#include <openssl/evp.h>

#include <chrono>

#include "util/error.h"

namespace ephport {
namespace {

using Users = std::map<std::string, std::string>;

// A bcrypt hash of `password` at `cost`, with `prefix` ($2b$ or $2y$).
std::string make_hash(const std::string& password, int cost, const char* prefix = "$2b$") {
  char setting[CRYPT_GENSALT_OUTPUT_SIZE];
  EXPECT_NE(crypt_gensalt_rn(prefix, static_cast<unsigned long>(cost), nullptr, 0, setting,
                             sizeof(setting)),
            nullptr);
  crypt_data data{};
  const char* hash = crypt_rn(password.c_str(), setting, &data, sizeof(data));
  EXPECT_NE(hash, nullptr);
  return hash != nullptr ? hash : "";
}

std::string basic(const std::string& user_password) {
  std::string encoded(4 * ((user_password.size() + 2) / 3) + 1, '\0');
  int length = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(encoded.data()),
                               reinterpret_cast<const unsigned char*>(user_password.data()),
                               static_cast<int>(user_password.size()));
  encoded.resize(static_cast<size_t>(length));
  return "Basic " + encoded;
}

TEST(BasicAuth, RightPasswordOnlyForKnownUsers) {
  BasicAuth auth(
      Users{{"prometheus", make_hash("s3cret", 4)}, {"ops", make_hash("other", 4, "$2y$")}});
  ASSERT_TRUE(auth.enabled());
  EXPECT_TRUE(auth.verify("prometheus", "s3cret"));
  EXPECT_TRUE(auth.verify("ops", "other"));
  EXPECT_FALSE(auth.verify("prometheus", "wrong"));
  EXPECT_FALSE(auth.verify("prometheus", ""));
  EXPECT_FALSE(auth.verify("ops", "s3cret"));
  EXPECT_FALSE(auth.verify("nobody", "s3cret"));
}

// A fixed $2y$ hash of "test" (the prefix htpasswd -B writes), made with
// libxcrypt: crypt("test", "$2y$05$A3Ck1kDLXN0Y6UvFyc5vq.").
TEST(BasicAuth, AcceptsHtpasswdHashes) {
  BasicAuth auth(Users{{"u", "$2y$05$A3Ck1kDLXN0Y6UvFyc5vq..R8/Am8J3gpEIC8FkgiXuXByiJ4Vkc."}});
  EXPECT_TRUE(auth.verify("u", "test"));
  EXPECT_FALSE(auth.verify("u", "Test"));
}

TEST(BasicAuth, SuccessesAreCachedFailuresNot) {
  BasicAuth auth(Users{{"prometheus", make_hash("s3cret", 4)}});
  uint64_t at_start = auth.bcrypt_runs();
  EXPECT_TRUE(auth.verify("prometheus", "s3cret"));
  EXPECT_EQ(auth.bcrypt_runs(), at_start + 1);
  for (int i = 0; i < 5; ++i) {
    EXPECT_TRUE(auth.verify("prometheus", "s3cret"));
  }
  EXPECT_EQ(auth.bcrypt_runs(), at_start + 1) << "a cached success costs no bcrypt";
  for (int i = 0; i < 3; ++i) {
    EXPECT_FALSE(auth.verify("prometheus", "wrong"));
  }
  EXPECT_EQ(auth.bcrypt_runs(), at_start + 4) << "every failure pays its bcrypt";
  for (int i = 0; i < 2; ++i) {
    EXPECT_FALSE(auth.verify("intruder", "s3cret"));
  }
  EXPECT_EQ(auth.bcrypt_runs(), at_start + 6) << "unknown users pay one too";
}

// An unknown user costs about what a known user's wrong password costs: the
// dummy hash has the configured cost (10 here: ~50 ms, far above noise).
TEST(BasicAuth, UnknownUsersTakeAsLongAsKnownOnes) {
  BasicAuth auth(Users{{"prometheus", make_hash("s3cret", 10)}});
  auto time = [&](const std::string& user) {
    auto start = std::chrono::steady_clock::now();
    EXPECT_FALSE(auth.verify(user, "wrong"));
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  };
  double known = time("prometheus");
  double unknown = time("nobody");
  EXPECT_GT(unknown, known * 0.5) << known << " s vs " << unknown << " s";
  EXPECT_LT(unknown, known * 2.0) << known << " s vs " << unknown << " s";
}

TEST(BasicAuth, ChecksTheAuthorizationHeader) {
  BasicAuth auth(Users{{"prometheus", make_hash("pa:ss word", 4)}});
  EXPECT_TRUE(auth.check_header(basic("prometheus:pa:ss word")));
  EXPECT_TRUE(auth.check_header("basic " + basic("prometheus:pa:ss word").substr(6)));
  EXPECT_FALSE(auth.check_header(basic("prometheus:pa:ss wor")));
  EXPECT_FALSE(auth.check_header(basic("prometheus")));  // no colon
  EXPECT_FALSE(auth.check_header(""));
  EXPECT_FALSE(auth.check_header("Bearer abc"));
  EXPECT_FALSE(auth.check_header("Basic !!!!"));
  EXPECT_FALSE(auth.check_header("Basic abc"));  // not a multiple of 4
  EXPECT_FALSE(auth.check_header("Basic"));
}

TEST(BasicAuth, BadHashesAreRefusedAtStart) {
  for (const std::string& hash :
       {std::string("plaintext"), std::string("$1$abc$def"), std::string("$2y$10$tooshort"),
        std::string(60, 'x'), "$2y$99$" + std::string(53, 'a')}) {
    SCOPED_TRACE(hash);
    try {
      BasicAuth auth(Users{{"alice", hash}});
      ADD_FAILURE() << "accepted";
    } catch (const InputError& error) {
      // A cost above kMaxBcryptCost is named as such (issue #12), before any bcrypt.
      const char* expected = hash.starts_with("$2y$99$")
                                 ? "basic_auth_users.alice: bcrypt cost 99 is above 14"
                                 : "basic_auth_users.alice: not a bcrypt hash";
      EXPECT_EQ(std::string(error.what()).rfind(expected, 0), 0u) << error.what();
    }
  }
}

TEST(BasicAuth, NoUsersMeansOff) {
  BasicAuth auth(Users{});
  EXPECT_FALSE(auth.enabled());
}

}  // namespace
}  // namespace ephport
