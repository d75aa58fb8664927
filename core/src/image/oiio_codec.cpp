// GIF, BMP and TIFF through OpenImageIO, read from memory. Only the reader of the sniffed
// format is used: OpenImageIO would otherwise try every reader it has on unknown bytes.
#include <OpenImageIO/filesystem.h>
#include <OpenImageIO/imageio.h>

#include <algorithm>
#include <string>

#include "image/codecs.hpp"

namespace imagepipe::codec {
namespace {

struct OpenedInput {
  // The proxy must outlive the reader that reads through it.
  OIIO::Filesystem::IOMemReader memory;
  std::unique_ptr<OIIO::ImageInput> input;
  OIIO::ImageSpec spec;

  explicit OpenedInput(std::string_view bytes) : memory(bytes.data(), bytes.size()) {}
};

std::unique_ptr<OpenedInput> open_input(std::string_view bytes, ImageFormat format) {
  auto opened = std::make_unique<OpenedInput>(bytes);
  const std::string name(to_string(format));
  opened->input = OIIO::ImageInput::create(name);
  if (!opened->input || !opened->input->supports("ioproxy"))
    throw Error(ErrorClass::invalid_input, "cannot read " + name + " images on this host");
  // Image work already runs on the host's CPU pool; no extra threads from the reader.
  opened->input->threads(1);
  opened->input->set_ioproxy(&opened->memory);
  if (!opened->input->open("memory." + std::string(file_extension(format)), opened->spec)) {
    std::string message = opened->input->geterror();
    fail_corrupt(format, message.empty() ? "unreadable header" : message);
  }
  return opened;
}

}  // namespace

ImageInfo probe_oiio(std::string_view bytes, ImageFormat format) {
  const auto opened = open_input(bytes, format);
  ImageInfo info;
  info.format = format;
  info.width = opened->spec.width;
  info.height = opened->spec.height;
  info.channels = std::clamp(opened->spec.nchannels, 1, 4);
  return info;
}

Image decode_oiio(std::string_view bytes, ImageFormat format) {
  const auto opened = open_input(bytes, format);
  const OIIO::ImageSpec& spec = opened->spec;
  // Extra channels beyond RGBA (TIFF extra samples) are dropped.
  const int channels = std::clamp(spec.nchannels, 1, 4);
  Image image(spec.width, spec.height, channels);
  if (!opened->input->read_image(0, 0, 0, channels, OIIO::TypeDesc::UINT8, image.pixels.data())) {
    std::string message = opened->input->geterror();
    fail_corrupt(format, message.empty() ? "unreadable pixel data" : message);
  }
  return image;
}

}  // namespace imagepipe::codec
