#include "serve_credentials.hpp"

#include <gtest/gtest.h>

#include <fstream>

#include "imagepipe/error.hpp"
#include "support/processes.hpp"

namespace imagepipe::serve {
namespace {

TEST(CredentialSealer, OpensWhatItSealedAndNothingElse) {
  const CredentialSealer sealer, other;
  const auto sealed = sealer.seal("user:p%40ss");
  EXPECT_EQ(sealed.find("p%40ss"), std::string::npos);
  EXPECT_NE(sealer.seal("user:p%40ss"), sealed);  // a fresh nonce each time
  EXPECT_EQ(sealer.open(sealed), "user:p%40ss");
  EXPECT_EQ(other.open(sealed), std::nullopt);
  std::string altered = sealed;
  altered[altered.size() - 3] = altered[altered.size() - 3] == 'A' ? 'B' : 'A';
  EXPECT_EQ(sealer.open(altered), std::nullopt);
  EXPECT_EQ(sealer.open("user:p%40ss"), std::nullopt);
  EXPECT_FALSE(sealer.survives_restart());
}

TEST(CredentialSealer, AKeyFileGivesTheSameKeyToTheNextProcess) {
  const auto dir = testing::make_temp_dir("imagepipe-sealer-");
  std::ofstream(dir / "key") << "a long random secret";
  const CredentialSealer first(dir / "key"), second(dir / "key");
  EXPECT_TRUE(first.survives_restart());
  EXPECT_EQ(second.open(first.seal("u:p")), "u:p");
  EXPECT_THROW(CredentialSealer(dir / "missing"), std::runtime_error);
  std::filesystem::remove_all(dir);
}

TEST(CallbackCredentials, LeaveTheStoredUrlAndComeBackForTheCallback) {
  const CredentialSealer sealer;
  JobRequest request;
  request.headers["callbackurl"] = "https://hook:s3cret@hooks.example.com:8443/cb?x=1";
  seal_callback_credentials(request, "callbackUrl", sealer);
  EXPECT_EQ(request.headers["callbackurl"], "https://hooks.example.com:8443/cb?x=1");
  EXPECT_EQ(request.headers.at(kSealedCallbackCredentials).find("s3cret"), std::string::npos);

  JobRequest later = request;
  restore_callback_credentials(later, "callbackUrl", sealer);
  EXPECT_EQ(later.headers["callbackurl"], "https://hook:s3cret@hooks.example.com:8443/cb?x=1");
  EXPECT_FALSE(later.headers.count(kSealedCallbackCredentials));

  JobRequest elsewhere = request;
  try {
    restore_callback_credentials(elsewhere, "callbackUrl", CredentialSealer());
    ADD_FAILURE() << "expected Error";
  } catch (const Error& e) {
    EXPECT_EQ(e.cls(), ErrorClass::invalid_input);
    EXPECT_STREQ(e.what(),
                 "the callback URL's credentials cannot be read back: they were sealed by an "
                 "earlier process, and callbacks.credentials_key_file is not set");
  }
}

TEST(CallbackCredentials, UrlsWithoutThemAreUntouched) {
  JobRequest request;
  request.headers["callbackurl"] = "http://127.0.0.1:9000/cb";
  seal_callback_credentials(request, "callbackUrl", CredentialSealer());
  EXPECT_EQ(request.headers.size(), 1u);
  EXPECT_EQ(request.headers["callbackurl"], "http://127.0.0.1:9000/cb");
}

}  // namespace
}  // namespace imagepipe::serve
