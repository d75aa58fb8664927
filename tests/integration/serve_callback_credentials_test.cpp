// A callback URL with credentials in it (http://user:password@host/cb): the receiver gets
// them as `Authorization: Basic`, and no file of the data directory holds them in clear,
// neither as written nor as the header's base64, before or after a restart.
#include <signal.h>

#include "serve_fixture.hpp"

namespace imagepipe::testing {
namespace {

using namespace std::chrono_literals;
namespace fs = std::filesystem;

constexpr const char* kPassword = "s3cr3t-pass";

class CallbackCredentialsTest : public ServeTest {
 protected:
  std::string callback_with_credentials() const {
    return "http://cbuser:" + std::string(kPassword) +
           "@127.0.0.1:" + std::to_string(receiver_.port()) + "/callback";
  }

  // Every byte under the data directory: the database, its WAL and the segment files.
  static std::string stored_bytes(const fs::path& dir) {
    std::string all;
    for (const auto& entry : fs::recursive_directory_iterator(dir))
      if (entry.is_regular_file()) all += read_file(entry.path().string());
    return all;
  }

  static void expect_no_credentials_in(const std::string& bytes, const std::string& where) {
    EXPECT_EQ(bytes.find(kPassword), std::string::npos) << "the password is in " << where;
    EXPECT_EQ(bytes.find(base64_encode(std::string("cbuser:") + kPassword)), std::string::npos)
        << "the Authorization value is in " << where;
  }

  static const std::string kExpectedAuthorization;
};

const std::string CallbackCredentialsTest::kExpectedAuthorization =
    "Basic " + base64_encode(std::string("cbuser:") + kPassword);

TEST_F(CallbackCredentialsTest, SentAsBasicAuthAndNeverStoredInClear) {
  DaemonProcess daemon({.pipelines = {kWxoOfflineDir}});
  auto r = daemon.post("/process-image-async-b64", b64_request().dump(),
                       {{"callbackUrl", callback_with_credentials()}});
  ASSERT_EQ(r.status, 202) << r.body;
  ASSERT_TRUE(receiver_.wait_for_requests(1, 30s)) << daemon.log();
  const auto callback = receiver_.requests()[0];
  EXPECT_EQ(callback.path, "/callback");
  EXPECT_EQ(callback.header("Authorization"), kExpectedAuthorization);
  EXPECT_EQ(json::parse(callback.body)["job_id"], json::parse(r.body)["job_id"]);

  const auto stored = stored_bytes(daemon.data_dir());
  // The job is there, its callback URL without the credentials (so the files read are the
  // right ones).
  EXPECT_NE(stored.find("http://127.0.0.1:" + std::to_string(receiver_.port()) + "/callback"),
            std::string::npos);
  expect_no_credentials_in(stored, "the data directory");
  expect_no_credentials_in(daemon.log(), "the log");
}

// With a key file the sealed credentials outlive the process: a callback the receiver
// refused before a SIGKILL is retried by the next process, credentials and all.
TEST_F(CallbackCredentialsTest, SurviveARestartWithAKeyFile) {
  const auto keys = make_temp_dir("imagepipe-keys-");
  write_file(keys / "callback.key", "a long random secret for the test");
  const std::string config =
      "callbacks: {base_delay_ms: 2000, credentials_key_file: " + (keys / "callback.key").string() +
      "}\n";
  receiver_.refuse_next(1, 503);
  fs::path data;
  {
    DaemonProcess first({.pipelines = {kWxoOfflineDir}, .config_yaml = config});
    auto r = first.post("/process-image-async-b64", b64_request().dump(),
                        {{"callbackUrl", callback_with_credentials()}});
    ASSERT_EQ(r.status, 202) << r.body;
    ASSERT_TRUE(receiver_.wait_for_requests(1, 30s)) << first.log();
    first.signal(SIGKILL);
    first.wait();
    first.keep_data_dir();
    data = first.data_dir();
  }
  expect_no_credentials_in(stored_bytes(data), "the data directory");

  {
    DaemonProcess second({.pipelines = {kWxoOfflineDir}, .data_dir = data, .config_yaml = config});
    ASSERT_TRUE(receiver_.wait_for_requests(2, 30s)) << second.log();
  }
  const auto requests = receiver_.requests();
  EXPECT_EQ(requests[0].header("Authorization"), kExpectedAuthorization);
  EXPECT_EQ(requests[1].header("Authorization"), kExpectedAuthorization);
  EXPECT_EQ(requests[1].header("Idempotency-Key"), requests[0].header("Idempotency-Key"));
  expect_no_credentials_in(stored_bytes(data), "the data directory");
  fs::remove_all(data.parent_path());
  fs::remove_all(keys);
}

TEST_F(CallbackCredentialsTest, AKeyFileThatCannotBeReadStopsTheStart) {
  try {
    DaemonProcess daemon({.pipelines = {kWxoOfflineDir},
                          .config_yaml = "callbacks: {credentials_key_file: /nonexistent/key}\n"});
    ADD_FAILURE() << "the daemon started";
  } catch (const std::runtime_error& e) {
    EXPECT_THAT(
        e.what(),
        ::testing::HasSubstr("imagepipe: callbacks.credentials_key_file /nonexistent/key cannot be "
                             "read\n"));
  }
}

}  // namespace
}  // namespace imagepipe::testing
