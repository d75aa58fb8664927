#include <gtest/gtest.h>

#include "imagepipe/registry.hpp"
#include "support/images.hpp"

namespace imagepipe {
namespace {

using nlohmann::json;

EncodeSpec spec_for(const json& with) {
  auto transform = testing::make_transform("encode", with);
  EXPECT_FALSE(transform->needs_pixels());
  Artifact in = Artifact::from_bytes(testing::encode(testing::gradient(4, 4), ImageFormat::png));
  const auto out = transform->apply(std::move(in), ItemContext{});
  EXPECT_TRUE(out.at(0).encoded) << "the bytes are left for the sink";
  return *out.at(0).encoding;
}

TEST(Encode, RecordsTheFormatAndItsSettings) {
  const EncodeSpec jpeg = spec_for({{"format", "jpeg"}, {"quality", 77}});
  EXPECT_EQ(jpeg.format, ImageFormat::jpeg);
  EXPECT_EQ(jpeg.quality, 77);
  const EncodeSpec png = spec_for(json::object());
  EXPECT_EQ(png.format, ImageFormat::png);
  EXPECT_EQ(png.compression, 2);
  const EncodeSpec webp = spec_for({{"format", "webp"}, {"lossless", true}});
  EXPECT_EQ(webp.format, ImageFormat::webp);
  EXPECT_TRUE(webp.lossless);
}

TEST(Encode, SchemaKeepsSettingsWithTheirFormats) {
  const auto& plugin = testing::builtin_plugin(PluginKind::transform, "encode");
  EXPECT_TRUE(check_options(plugin, {{"format", "jpeg"}, {"quality", 85}}).ok());
  EXPECT_TRUE(check_options(plugin, {{"format", "webp"}, {"quality", 85}}).ok());
  EXPECT_TRUE(check_options(plugin, {{"compression", 9}}).ok());  // png by default
  EXPECT_FALSE(check_options(plugin, {{"format", "png"}, {"quality", 85}}).ok());
  EXPECT_FALSE(check_options(plugin, {{"quality", 85}}).ok());
  EXPECT_FALSE(check_options(plugin, {{"format", "jpeg"}, {"compression", 3}}).ok());
  EXPECT_FALSE(check_options(plugin, {{"format", "jpeg"}, {"lossless", true}}).ok());
  EXPECT_FALSE(check_options(plugin, {{"format", "gif"}}).ok());
  EXPECT_FALSE(check_options(plugin, {{"format", "jpeg"}, {"quality", 0}}).ok());
  for (const json& example : plugin.examples)
    EXPECT_TRUE(check_options(plugin, example).ok()) << example;
}

TEST(Encode, SixteenBitsOnlyWhereTheFormatHoldsThem) {
  const auto& plugin = testing::builtin_plugin(PluginKind::transform, "encode");
  EXPECT_TRUE(check_options(plugin, {{"format", "tiff"}, {"bit_depth", 16}}).ok());
  EXPECT_TRUE(check_options(plugin, {{"bit_depth", 16}}).ok());  // png by default
  EXPECT_TRUE(check_options(plugin, {{"format", "exr"}}).ok());
  EXPECT_FALSE(check_options(plugin, {{"format", "jpeg"}, {"bit_depth", 16}}).ok());
  EXPECT_FALSE(check_options(plugin, {{"format", "tiff"}, {"bit_depth", 12}}).ok());
  EXPECT_FALSE(check_options(plugin, {{"format", "jpeg2000"}}).ok());
  const EncodeSpec tiff = spec_for({{"format", "tiff"}, {"bit_depth", 16}});
  EXPECT_EQ(tiff.format, ImageFormat::tiff);
  EXPECT_EQ(tiff.bit_depth, 16);
}

TEST(Encode, FastPngDefaultStaysCloseToTheBestSize) {
  // The default compression against zlib level 9 on a photo-like image.
  const Image photo = testing::photo_like(256, 256);
  const std::size_t fast = encode_image(photo, spec_for(json::object())).size();
  const std::size_t best = encode_image(photo, {ImageFormat::png, 90, 9, false}).size();
  EXPECT_LT(double(fast), 1.1 * double(best));
}

}  // namespace
}  // namespace imagepipe
