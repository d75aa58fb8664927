#include <gtest/gtest.h>

#include "imagepipe/image.hpp"

namespace imagepipe {
namespace {

TEST(ImageFormat, NamesMimeTypesAndExtensions) {
  EXPECT_EQ(to_string(ImageFormat::jpeg), "jpeg");
  EXPECT_EQ(mime_type(ImageFormat::png), "image/png");
  EXPECT_EQ(mime_type(ImageFormat::webp), "image/webp");
  EXPECT_EQ(mime_type(ImageFormat::unknown), "application/octet-stream");
  EXPECT_EQ(file_extension(ImageFormat::jpeg), "jpg");
  EXPECT_EQ(file_extension(ImageFormat::tiff), "tif");
}

TEST(ImageFormat, FromNameAcceptsNamesExtensionsAndMimeTypes) {
  EXPECT_EQ(format_from_name("jpeg"), ImageFormat::jpeg);
  EXPECT_EQ(format_from_name("JPG"), ImageFormat::jpeg);
  EXPECT_EQ(format_from_name(".png"), ImageFormat::png);
  EXPECT_EQ(format_from_name("image/webp"), ImageFormat::webp);
  EXPECT_EQ(format_from_name("tif"), ImageFormat::tiff);
  EXPECT_EQ(format_from_name("exr"), ImageFormat::exr);
  EXPECT_EQ(format_from_name("image/jp2"), ImageFormat::jpeg2000);
  EXPECT_EQ(format_from_name("ppm"), ImageFormat::pnm);
  EXPECT_EQ(format_from_name("targa"), ImageFormat::tga);
  EXPECT_EQ(format_from_name("heic"), std::nullopt);
  EXPECT_EQ(format_from_name(""), std::nullopt);
}

TEST(ImageFormat, SniffsMagicNumbers) {
  using namespace std::string_view_literals;
  EXPECT_EQ(sniff_format("\x89PNG\r\n\x1a\n...."sv), ImageFormat::png);
  EXPECT_EQ(sniff_format("\xff\xd8\xff\xe0"sv), ImageFormat::jpeg);
  EXPECT_EQ(sniff_format("RIFF\x10\0\0\0WEBPVP8 "sv), ImageFormat::webp);
  EXPECT_EQ(sniff_format("RIFF\x10\0\0\0WAVEfmt "sv), ImageFormat::unknown);
  EXPECT_EQ(sniff_format("GIF89a"sv), ImageFormat::gif);
  EXPECT_EQ(sniff_format("BM\x36\0\0\0\0\0\0\0\x36\0\0\0"sv), ImageFormat::bmp);
  EXPECT_EQ(sniff_format("II*\0"sv), ImageFormat::tiff);
  EXPECT_EQ(sniff_format("MM\0*"sv), ImageFormat::tiff);
  EXPECT_EQ(sniff_format("\x89PN"sv), ImageFormat::unknown);
  EXPECT_EQ(sniff_format(""sv), ImageFormat::unknown);
}

TEST(Artifact, FromBytesSniffsTheFormat) {
  const Artifact a = Artifact::from_bytes(std::string("\xff\xd8\xff\xdb rest", 10));
  ASSERT_TRUE(a.encoded);
  EXPECT_EQ(a.encoded->size(), 10u);
  EXPECT_EQ(a.encoded_format, ImageFormat::jpeg);
  EXPECT_FALSE(a.pixels);
}

TEST(Artifact, FromPixelsHasNoBytes) {
  const Artifact a = Artifact::from_pixels(Image(3, 2, 4));
  EXPECT_FALSE(a.encoded);
  ASSERT_TRUE(a.pixels);
  EXPECT_EQ(a.pixels->pixels.size(), 24u);
  EXPECT_TRUE(a.metadata.is_object());
}

}  // namespace
}  // namespace imagepipe
