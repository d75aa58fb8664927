// TIFF through libtiff's C API, loaded with dlopen on the first TIFF: TIFFs are rare in
// these pipelines, and linking libtiff (and the codecs it links) would cost every process
// start. What libtiff's RGBA interface cannot read (float or 32-bit samples, some
// photometrics) goes to the OpenImageIO module instead (oiio_codec.cpp).
#include <dlfcn.h>
#include <tiffio.h>

#include <cstdarg>
#include <cstdio>
#include <cstring>
#include <mutex>
#include <string>
#include <vector>

#include "image/codecs.hpp"

namespace imagepipe::codec {
namespace {

// The declarations come from <tiffio.h>; the functions are bound with dlsym, so the
// compiler still checks every call against libtiff's own prototypes.
struct LibTiff {
  decltype(&TIFFClientOpen) client_open;
  decltype(&TIFFGetField) get_field;
  decltype(&TIFFRGBAImageOK) rgba_ok;
  decltype(&TIFFReadRGBAImageOriented) read_rgba;
  decltype(&TIFFClose) close;
  decltype(&TIFFSetErrorHandler) set_error_handler;
  decltype(&TIFFSetWarningHandler) set_warning_handler;
};

// libtiff reports errors through a process-wide handler, always on the calling thread.
thread_local std::string tiff_error;

void on_tiff_error(const char* module, const char* format, va_list args) {
  char message[256];
  std::vsnprintf(message, sizeof message, format, args);
  tiff_error = module && *module ? std::string(module) + ": " + message : message;
}
void on_tiff_warning(const char*, const char*, va_list) {}

const LibTiff& libtiff() {
  static const LibTiff* loaded = []() -> const LibTiff* {
    void* so = dlopen("libtiff.so.6", RTLD_NOW | RTLD_LOCAL);
    if (!so) so = dlopen("libtiff.so.5", RTLD_NOW | RTLD_LOCAL);
    if (!so) return nullptr;
    auto* lib = new LibTiff;
    bool ok = true;
    auto bind = [&](auto& fn, const char* name) {
      fn = reinterpret_cast<std::remove_reference_t<decltype(fn)>>(dlsym(so, name));
      ok = ok && fn;
    };
    bind(lib->client_open, "TIFFClientOpen");
    bind(lib->get_field, "TIFFGetField");
    bind(lib->rgba_ok, "TIFFRGBAImageOK");
    bind(lib->read_rgba, "TIFFReadRGBAImageOriented");
    bind(lib->close, "TIFFClose");
    bind(lib->set_error_handler, "TIFFSetErrorHandler");
    bind(lib->set_warning_handler, "TIFFSetWarningHandler");
    if (!ok) return nullptr;
    lib->set_error_handler(on_tiff_error);
    lib->set_warning_handler(on_tiff_warning);
    return lib;
  }();
  if (!loaded)
    throw Error(ErrorClass::invalid_input,
                "cannot read tiff images on this host (libtiff is not installed)");
  return *loaded;
}

struct TiffMemory {
  std::string_view bytes;
  std::size_t pos = 0;
};

tmsize_t read_memory(thandle_t h, void* out, tmsize_t n) {
  auto* m = static_cast<TiffMemory*>(h);
  const std::size_t count = std::min(std::size_t(n), m->bytes.size() - m->pos);
  std::memcpy(out, m->bytes.data() + m->pos, count);
  m->pos += count;
  return tmsize_t(count);
}
tmsize_t write_nothing(thandle_t, void*, tmsize_t) { return 0; }
toff_t seek_memory(thandle_t h, toff_t offset, int whence) {
  auto* m = static_cast<TiffMemory*>(h);
  const std::uint64_t base = whence == SEEK_CUR ? m->pos : whence == SEEK_END ? m->bytes.size() : 0;
  const std::uint64_t target = base + offset;
  if (target > m->bytes.size()) return toff_t(-1);
  m->pos = std::size_t(target);
  return target;
}
int close_nothing(thandle_t) { return 0; }
toff_t size_of(thandle_t h) { return static_cast<TiffMemory*>(h)->bytes.size(); }
int map_nothing(thandle_t, void**, toff_t*) { return 0; }
void unmap_nothing(thandle_t, void*, toff_t) {}

class OpenTiff {
 public:
  explicit OpenTiff(std::string_view bytes) : lib_(libtiff()), memory_{bytes, 0} {
    tiff_error.clear();
    // "rm": read, no memory mapping.
    tiff_ = lib_.client_open("memory.tif", "rm", &memory_, read_memory, write_nothing, seek_memory,
                             close_nothing, size_of, map_nothing, unmap_nothing);
    if (!tiff_)
      fail_corrupt(ImageFormat::tiff, tiff_error.empty() ? "unreadable header" : tiff_error);
  }
  ~OpenTiff() { lib_.close(tiff_); }
  OpenTiff(const OpenTiff&) = delete;
  OpenTiff& operator=(const OpenTiff&) = delete;

  ImageInfo info() const {
    std::uint32_t width = 0, height = 0;
    std::uint16_t samples = 1, photometric = 2, extra_count = 0, bits = 8, sample_format = 1;
    std::uint16_t* extra = nullptr;
    lib_.get_field(tiff_, TIFFTAG_IMAGEWIDTH, &width);
    lib_.get_field(tiff_, TIFFTAG_IMAGELENGTH, &height);
    lib_.get_field(tiff_, TIFFTAG_SAMPLESPERPIXEL, &samples);
    lib_.get_field(tiff_, TIFFTAG_PHOTOMETRIC, &photometric);
    lib_.get_field(tiff_, TIFFTAG_EXTRASAMPLES, &extra_count, &extra);
    lib_.get_field(tiff_, TIFFTAG_BITSPERSAMPLE, &bits);
    lib_.get_field(tiff_, TIFFTAG_SAMPLEFORMAT, &sample_format);
    if (width > 0x7FFFFFFF || height > 0x7FFFFFFF)
      fail_corrupt(ImageFormat::tiff, "size out of range");
    const bool gray =
        (photometric == PHOTOMETRIC_MINISBLACK || photometric == PHOTOMETRIC_MINISWHITE) &&
        samples - extra_count == 1;
    const bool alpha = extra_count > 0;
    const int stored_bits = sample_format == SAMPLEFORMAT_IEEEFP ? 32 : bits > 8 ? 16 : 8;
    return {ImageFormat::tiff, int(width), int(height), gray ? (alpha ? 2 : 1) : (alpha ? 4 : 3),
            stored_bits};
  }

  // Whether libtiff's RGBA interface reads this file (it refuses float samples, for one)
  // as it should be shown: it flips rows, but turns no image on its side (orientations 5-8).
  bool rgba_ok() const {
    char message[1024] = {};
    std::uint16_t orientation = ORIENTATION_TOPLEFT;
    lib_.get_field(tiff_, TIFFTAG_ORIENTATION, &orientation);
    return lib_.rgba_ok(tiff_, message) != 0 && orientation < ORIENTATION_LEFTTOP;
  }

  // Any TIFF libtiff understands, as RGBA with alpha premultiplied (libtiff's RGBA
  // interface always premultiplies).
  std::vector<std::uint32_t> rgba(const ImageInfo& info) const {
    std::vector<std::uint32_t> raster(std::size_t(info.width) * info.height);
    tiff_error.clear();
    if (!lib_.read_rgba(tiff_, std::uint32_t(info.width), std::uint32_t(info.height), raster.data(),
                        ORIENTATION_TOPLEFT, 1))
      fail_corrupt(ImageFormat::tiff, tiff_error.empty() ? "unreadable pixel data" : tiff_error);
    return raster;
  }

 private:
  const LibTiff& lib_;
  TiffMemory memory_;
  TIFF* tiff_ = nullptr;
};

}  // namespace

ImageInfo probe_tiff(std::string_view bytes) { return OpenTiff(bytes).info(); }

bool tiff_is_rgba(std::string_view bytes) {
  try {
    return OpenTiff(bytes).rgba_ok();
  } catch (const Error&) {
    return true;  // a damaged header, or no libtiff: its decoder says so in its own words
  }
}

Image decode_tiff(std::string_view bytes) {
  const OpenTiff tiff(bytes);
  const ImageInfo info = tiff.info();
  const std::vector<std::uint32_t> raster = tiff.rgba(info);
  Image image(info.width, info.height, info.channels);
  const bool alpha = info.channels == 2 || info.channels == 4;
  for (std::size_t i = 0; i < raster.size(); ++i) {
    const std::uint32_t abgr = raster[i];
    const unsigned a = abgr >> 24;
    unsigned rgb[3] = {abgr & 0xFF, (abgr >> 8) & 0xFF, (abgr >> 16) & 0xFF};
    if (alpha && a != 0 && a != 255)
      for (unsigned& c : rgb) c = std::min(255u, (c * 255 + a / 2) / a);
    std::uint8_t* px = image.pixels.data() + i * std::size_t(info.channels);
    if (info.channels <= 2) {
      px[0] = std::uint8_t(rgb[0]);
    } else {
      px[0] = std::uint8_t(rgb[0]), px[1] = std::uint8_t(rgb[1]), px[2] = std::uint8_t(rgb[2]);
    }
    if (alpha) px[info.channels - 1] = std::uint8_t(a);
  }
  return image;
}

}  // namespace imagepipe::codec
