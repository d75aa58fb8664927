// The sepia plugin as imagepipe loads it: from its library, options checked by its schema.
#include <gtest/gtest.h>

#include "imagepipe/testing/plugin_harness.hpp"

using imagepipe::testing::PluginHarness;
using imagepipe::testing::solid_image;

TEST(Sepia, FullStrengthTurnsGreyBrown) {
  auto sepia = PluginHarness::load(PLUGIN_LIBRARY);
  EXPECT_EQ(sepia.descriptor().name, "sepia");  // from the CMake call
  const auto out = sepia.apply({{"strength", 1}}, solid_image(4, 2, {100, 100, 100}));
  ASSERT_EQ(out.size(), 1u);
  const auto* p = out[0].pixels->at(3, 1);
  EXPECT_EQ(p[0], 135);  // 0.393*100 + 0.769*100 + 0.189*100
  EXPECT_EQ(p[1], 120);
  EXPECT_EQ(p[2], 93);
}

TEST(Sepia, ZeroStrengthLeavesTheImage) {
  auto sepia = PluginHarness::load(PLUGIN_LIBRARY);
  const auto out = sepia.apply({{"strength", 0}}, solid_image(2, 2, {10, 200, 30}));
  EXPECT_EQ(out[0].pixels->pixels, solid_image(2, 2, {10, 200, 30}).pixels);
}

TEST(Sepia, TheSchemaRefusesAStrengthAboveOne) {
  auto sepia = PluginHarness::load(PLUGIN_LIBRARY);
  EXPECT_EQ(sepia.options(nlohmann::json::object()).at("strength"), 1.0);  // the default
  try {
    sepia.options({{"strength", 2}});
    FAIL() << "strength 2 accepted";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("/strength"), std::string::npos) << e.what();
  }
}
