// Synthetic images for tests: deterministic, small, with known pixel values.
//
//   Image img = testing::solid(64, 32, {255, 0, 0});        // 3 channels from the colour
//   std::string png = testing::encode(img, ImageFormat::png);
//   EXPECT_TRUE(testing::images_near(decode_image(png), img, 0));
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "imagepipe/image.hpp"
#include "imagepipe/plugin.hpp"

namespace imagepipe::testing {

// Every pixel `color`; the image has as many channels as `color` has values (1-4).
Image solid(int width, int height, std::vector<std::uint8_t> color);

// R rises with x, G rises with y, B = 128 (and A = 255 when channels is 4). Channels 1
// and 2 hold the average of R and G (and A = 255).
Image gradient(int width, int height, int channels = 3);

// Gradients, a few shapes and seeded noise: compresses like a photograph, not a drawing.
Image photo_like(int width, int height, std::uint32_t seed = 1);

// Four tiles in a 2x2 grid on white: each tile `tile` px square, `margin` px of white
// around and between them. Tile i (row-major) has colour kGridColors[i].
inline constexpr std::array<std::array<std::uint8_t, 3>, 4> kGridColors{{
    {220, 40, 40},   // top-left: red
    {40, 160, 60},   // top-right: green
    {40, 80, 220},   // bottom-left: blue
    {240, 200, 30},  // bottom-right: yellow
}};
Image grid_2x2(int tile = 100, int margin = 10);

// encode_image with the format's usual settings (PNG level 6, JPEG/WebP quality given).
std::string encode(const Image& image, ImageFormat format, int quality = 90);

// Largest absolute per-channel difference; 256 when the shapes differ.
int max_difference(const Image& a, const Image& b);
// Mean absolute per-channel difference; 256 when the shapes differ.
double mean_difference(const Image& a, const Image& b);

// Passes when the shapes match and no channel differs by more than `tolerance`; the
// failure message names the first differing pixel.
::testing::AssertionResult images_near(const Image& actual, const Image& expected, int tolerance);

// The pixel at (x, y) as a vector of its channels, for readable EXPECT_EQ.
std::vector<std::uint8_t> pixel(const Image& image, int x, int y);

// Whole file as bytes; fails the current test (and returns "") when it cannot be read.
std::string read_file(const std::string& path);

// ---- running image plugins in tests ---------------------------------------------------

// The built-in plugin `name` of `kind`; fails the test and throws when there is none.
const PluginDescriptor& builtin_plugin(PluginKind kind, const std::string& name);

// `with` checked against the plugin's schema, defaults filled in; throws std::runtime_error
// listing the issues when it does not validate.
nlohmann::json checked_options(const PluginDescriptor& plugin, const nlohmann::json& with);

// Builds transform `name` from `with` (checked as above).
std::unique_ptr<Transform> make_transform(const std::string& name, const nlohmann::json& with);

// Runs `image` through transform `name` and returns what it produced.
std::vector<Artifact> apply_transform(const std::string& name, const nlohmann::json& with,
                                      Image image);

}  // namespace imagepipe::testing
