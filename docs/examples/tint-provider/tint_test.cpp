// The tint provider from its library, called as the engine would call it.
#include <gtest/gtest.h>

#include "imagepipe/error.hpp"
#include "imagepipe/testing/plugin_harness.hpp"

using imagepipe::testing::PluginHarness;
using imagepipe::testing::solid_image;

TEST(Tint, BlendsTheInputTowardsTheColour) {
  auto tint = PluginHarness::load(PLUGIN_LIBRARY);
  imagepipe::ProviderRequest request;
  request.prompt = "warmer";
  request.images.push_back(imagepipe::Artifact::from_pixels(solid_image(3, 2, {0, 0, 0})));
  const auto result = tint.call({{"colour", "#ff8000"}, {"amount", 0.5}}, std::move(request));
  ASSERT_EQ(result.images.size(), 1u);
  const auto* p = result.images[0].pixels->at(2, 1);
  EXPECT_EQ(p[0], 127);
  EXPECT_EQ(p[1], 64);
  EXPECT_EQ(p[2], 0);
  EXPECT_EQ(result.usage.at("pixels"), 6);
  EXPECT_EQ(result.metadata.at("prompt"), "warmer");
}

TEST(Tint, ParamsOverrideTheOptionAndAreChecked) {
  auto tint = PluginHarness::load(PLUGIN_LIBRARY);
  imagepipe::ProviderRequest request;
  request.params = {{"amount", 1.0}};
  const auto result = tint.call({{"colour", "#102030"}}, request);  // no image: a square
  EXPECT_EQ(result.images[0].pixels->width, 64);
  EXPECT_EQ(result.images[0].pixels->at(0, 0)[2], 0x30);

  request.params = {{"amount", 3}};
  try {
    tint.call({}, request);
    FAIL() << "amount 3 accepted";
  } catch (const imagepipe::Error& e) {
    EXPECT_EQ(e.cls(), imagepipe::ErrorClass::invalid_input);
    EXPECT_STREQ(e.what(), "tint: params.amount must be within 0..1, got 3.000000");
  }
}

TEST(Tint, TheSchemaRefusesAColourThatIsNotHex) {
  auto tint = PluginHarness::load(PLUGIN_LIBRARY);
  EXPECT_THROW(tint.provider({{"colour", "orange"}}), std::invalid_argument);
}
