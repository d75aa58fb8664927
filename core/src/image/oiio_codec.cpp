// The OpenImageIO module (core/oiio/). Its readers run in imagepipe-decode, a helper process
// with its memory capped (decoder_client.cpp): they size buffers from lengths the file
// declares. Its writers, which only meet our own pixels, run here, loaded with dlopen on
// the first such image: linking OpenImageIO cost every process 0.4-0.7 s at start (about
// 260 shared libraries), and most processes only ever meet JPEG, PNG and WebP.
#include <dlfcn.h>

#include <cstdlib>
#include <filesystem>
#include <mutex>
#include <new>
#include <string>

#include "image/codecs.hpp"
#include "image/decoder_client.hpp"
#include "image/oiio_abi.h"

// Resolved when the module's source is linked into the program itself (the image fuzzer,
// which reads in-process to see the readers' coverage, under an allocation cap of its own
// equal to the decoder's limit); null otherwise: the module is loaded from its file, and
// reads go to the helper.
extern "C" __attribute__((weak)) const ImagepipeOiioModule* imagepipe_oiio_module(void);

namespace imagepipe::codec {
namespace {
constexpr const char* kModuleFile = "libimagepipe_oiio.so";
constexpr std::size_t kErrorSize = 512;
}  // namespace

std::string oiio_module_path() {
  if (const char* path = std::getenv("IMAGEPIPE_OIIO_MODULE"); path && *path) return path;
  Dl_info self{};
  if (dladdr(reinterpret_cast<void*>(&oiio_module_path), &self) && self.dli_fname)
    return (std::filesystem::path(self.dli_fname).parent_path() / kModuleFile).string();
  return kModuleFile;
}

namespace {

struct Loaded {
  const ImagepipeOiioModule* module = nullptr;
  std::string problem;  // why there is none
};

Loaded load_module() {
  if (imagepipe_oiio_module) return {imagepipe_oiio_module(), {}};
  const std::string path = oiio_module_path();
  void* so = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (!so)
    return {nullptr, std::string("the OpenImageIO module is not installed (") + dlerror() + ")"};
  using Entry = const ImagepipeOiioModule* (*)();
  auto entry = reinterpret_cast<Entry>(dlsym(so, "imagepipe_oiio_module"));
  if (!entry) return {nullptr, path + " is not an imagepipe OpenImageIO module"};
  const ImagepipeOiioModule* module = entry();
  // The version first: nothing else in the table is read from a module of another ABI.
  if (!module || module->abi_version != IMAGEPIPE_OIIO_ABI_VERSION)
    return {nullptr, path + " has ABI version " + std::to_string(module ? module->abi_version : 0) +
                         ", this libimagepipe needs " + std::to_string(IMAGEPIPE_OIIO_ABI_VERSION)};
  return {module, {}};
}

const ImagepipeOiioModule& oiio(ImageFormat format) {
  static const Loaded loaded = load_module();
  if (!loaded.module)
    throw Error(ErrorClass::invalid_input, "cannot read or write " +
                                               std::string(to_string(format)) +
                                               " images on this host: " + loaded.problem);
  return *loaded.module;
}

// OpenImageIO's name for each format the module may read: never guessed from the bytes.
const char* oiio_name(ImageFormat format) {
  switch (format) {
    case ImageFormat::png:
      return "png";
    case ImageFormat::bmp:
      return "bmp";
    case ImageFormat::tiff:
      return "tiff";
    case ImageFormat::exr:
      return "openexr";
    case ImageFormat::hdr:
      return "hdr";
    case ImageFormat::psd:
      return "psd";
    case ImageFormat::dpx:
      return "dpx";
    case ImageFormat::jpeg2000:
      return "jpeg2000";
    case ImageFormat::tga:
      return "targa";
    case ImageFormat::pnm:
      return "pnm";
    case ImageFormat::ico:
      return "ico";
    default:
      return nullptr;
  }
}

// OpenEXR allocates each header attribute at the size the file declares before reading it
// (1.6 GB for a 600-byte file: found by the image fuzzer). Every declared size must fit in
// the bytes that follow it; the walk reads only names and sizes.
void check_exr_header(std::string_view bytes) {
  constexpr std::uint32_t kLongNames = 0x400, kMultiPart = 0x1000;
  if (bytes.size() < 8) fail_corrupt(ImageFormat::exr, "no header");
  const auto u32 = [&](std::size_t at) {
    return std::uint32_t(std::uint8_t(bytes[at])) | std::uint32_t(std::uint8_t(bytes[at + 1])) << 8 |
           std::uint32_t(std::uint8_t(bytes[at + 2])) << 16 |
           std::uint32_t(std::uint8_t(bytes[at + 3])) << 24;
  };
  const std::uint32_t flags = u32(4);
  // As OpenEXR reads a name (Xdr::read): up to the limit plus one bytes, ending after a NUL.
  const std::size_t limit = flags & kLongNames ? 255 : 31;
  std::size_t at = 8;
  const auto read_name = [&] {  // false: the name is empty (the header's end)
    for (std::size_t n = 0; n <= limit; ++n) {
      if (at >= bytes.size()) fail_corrupt(ImageFormat::exr, "header ends early");
      if (bytes[at++] == '\0') return n > 0;
    }
    return true;
  };
  for (int headers = 0; headers < 1000; ++headers) {
    while (read_name()) {
      read_name();  // the type
      if (at + 4 > bytes.size()) fail_corrupt(ImageFormat::exr, "header ends early");
      const std::uint32_t size = u32(at);
      at += 4;
      if (size > bytes.size() - at)
        fail_corrupt(ImageFormat::exr, "a header attribute declares " + std::to_string(size) +
                                           " bytes, more than the file holds");
      at += size;
    }
    if (!(flags & kMultiPart) || at >= bytes.size() || bytes[at] == '\0') return;
  }
}

// OpenImageIO's PSD reader sizes a buffer by each section's declared length before reading
// it (3.7 GB for a small file: found by the image fuzzer). The three sections after the
// 26-byte header (colour mode data, image resources, layers and masks) must fit the file.
void check_psd_sections(std::string_view bytes) {
  const bool big = bytes.size() >= 6 && bytes[5] == 2;  // PSB: the third length is 8 bytes
  std::size_t at = 26;
  for (int section = 0; section < 3; ++section) {
    const std::size_t width = big && section == 2 ? 8 : 4;
    if (at + width > bytes.size()) fail_corrupt(ImageFormat::psd, "header ends early");
    std::uint64_t length = 0;
    for (std::size_t i = 0; i < width; ++i) length = length << 8 | std::uint8_t(bytes[at + i]);
    at += width;
    if (length > bytes.size() - at)
      fail_corrupt(ImageFormat::psd, "a section declares " + std::to_string(length) +
                                         " bytes, more than the file holds");
    at += std::size_t(length);
  }
}

ImagepipeOiioInput input(ImageFormat format, std::string_view bytes, const DecodeLimits& limits) {
  if (format == ImageFormat::exr) check_exr_header(bytes);
  if (format == ImageFormat::psd) check_psd_sections(bytes);
  const char* name = oiio_name(format);
  if (!name)
    throw Error(ErrorClass::internal,
                "no OpenImageIO reader for " + std::string(to_string(format)));
  return {name, bytes.data(), bytes.size(), limits.apply_orientation ? 1 : 0, limits.max_pixels};
}

// The module's bytes land in a std::string or an Image, sized once.
template <typename Buffer>
ImagepipeOiioSink sink_into(Buffer& buffer) {
  return {&buffer, [](void* context, std::size_t size) -> unsigned char* {
            try {
              auto& out = *static_cast<Buffer*>(context);
              out.resize(size);
              return reinterpret_cast<unsigned char*>(out.data());
            } catch (const std::bad_alloc&) {
              return nullptr;
            }
          }};
}

ImageInfo info_of(ImageFormat format, const ImagepipeOiioInfo& raw) {
  return {format, raw.width, raw.height, raw.channels, raw.bits};
}

// Reads run here only where the module is linked in (the fuzzer); elsewhere in the helper.
bool in_process() { return imagepipe_oiio_module != nullptr; }

DecoderCall call(ImagepipeDecoderOp op, const ImagepipeOiioInput& in) {
  DecoderCall c;
  c.op = op;
  c.format = in.format;
  c.data = std::string_view(static_cast<const char*>(in.data), in.size);
  c.max_pixels = in.max_pixels;
  c.apply_orientation = in.apply_orientation != 0;
  return c;
}

ImagepipeOiioOutput output(const EncodeSpec& spec) {
  const char* name = spec.format == ImageFormat::png ? "png" : oiio_name(spec.format);
  if (!name)
    throw Error(ErrorClass::internal,
                "no OpenImageIO writer for " + std::string(to_string(spec.format)));
  return {name, spec.bit_depth, spec.quality};
}

}  // namespace

ImageInfo probe_oiio(ImageFormat format, std::string_view bytes, const DecodeLimits& limits) {
  const ImagepipeOiioInput in = input(format, bytes, limits);
  if (!in_process()) {
    const DecoderResult result = run_decoder(format, call(IMAGEPIPE_DECODER_PROBE, in));
    return info_of(format, result.info);
  }
  const auto& module = oiio(format);
  ImagepipeOiioInfo raw{};
  char error[kErrorSize] = {};
  if (module.probe(&in, &raw, error, sizeof error) != 0) fail_corrupt(format, error);
  return info_of(format, raw);
}

Image decode_oiio(ImageFormat format, std::string_view bytes, const DecodeLimits& limits) {
  const ImagepipeOiioInput in = input(format, bytes, limits);
  ImagepipeOiioInfo raw{};
  std::vector<std::uint8_t> pixels;
  if (!in_process()) {
    DecoderResult result = run_decoder(format, call(IMAGEPIPE_DECODER_DECODE, in));
    raw = result.info;
    pixels = std::move(result.payload);
  } else {
    const auto& module = oiio(format);
    ImagepipeOiioSink sink = sink_into(pixels);
    char error[kErrorSize] = {};
    if (module.decode(&in, &raw, &sink, error, sizeof error) != 0) fail_corrupt(format, error);
  }
  Image image;
  image.width = raw.width, image.height = raw.height, image.channels = raw.channels;
  if (pixels.size() != std::size_t(raw.width) * raw.height * raw.channels)
    throw Error(ErrorClass::internal, "the OpenImageIO module returned " +
                                          std::to_string(pixels.size()) + " bytes for a " +
                                          std::to_string(raw.width) + "x" +
                                          std::to_string(raw.height) + " image");
  image.pixels = std::move(pixels);
  return image;
}

std::string encode_oiio(const Image& image, const EncodeSpec& spec) {
  const auto& module = oiio(spec.format);
  const ImagepipeOiioOutput out = output(spec);
  std::string bytes;
  ImagepipeOiioSink sink = sink_into(bytes);
  char error[kErrorSize] = {};
  if (module.encode(image.pixels.data(), image.width, image.height, image.channels, &out, &sink,
                    error, sizeof error) != 0)
    throw Error(ErrorClass::invalid_input,
                "cannot encode " + std::string(to_string(spec.format)) + ": " + error);
  return bytes;
}

std::string transcode_oiio(ImageFormat from, std::string_view bytes, const EncodeSpec& spec,
                           const DecodeLimits& limits) {
  const ImagepipeOiioInput in = input(from, bytes, limits);
  const ImagepipeOiioOutput out = output(spec);
  if (!in_process()) {
    DecoderCall request = call(IMAGEPIPE_DECODER_TRANSCODE, in);
    request.out_format = out.format, request.out_bits = out.bits, request.out_quality = out.quality;
    DecoderResult result = run_decoder(from, request);
    return std::string(result.payload.begin(), result.payload.end());
  }
  const auto& module = oiio(from);
  std::string result;
  ImagepipeOiioSink sink = sink_into(result);
  char error[kErrorSize] = {};
  if (module.transcode(&in, &out, &sink, error, sizeof error) != 0) fail_corrupt(from, error);
  return result;
}

bool oiio_reads(ImageFormat format) {
  return oiio_name(format) != nullptr && format != ImageFormat::png;
}

}  // namespace imagepipe::codec
