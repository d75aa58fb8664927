// libimagepipe_oiio.so: the formats the built-in codecs do not read (EXR, HDR, TIFF with
// float or 16-bit samples, PSD, DPX, JPEG 2000, TGA, PNM, ICO, BMP), through OpenImageIO.
// libimagepipe loads it with dlopen on first use (core/src/image/oiio_codec.cpp); the
// contract is core/src/image/oiio_abi.h. Every entry point catches everything: no C++
// exception may cross the C boundary.
#include <sys/mman.h>
#include <unistd.h>

#include <OpenImageIO/filesystem.h>
#include <OpenImageIO/imagebuf.h>
#include <OpenImageIO/imagebufalgo.h>
#include <OpenImageIO/imageio.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "image/oiio_abi.h"

namespace {

using namespace OIIO;

struct Failure : std::runtime_error {
  using std::runtime_error::runtime_error;
};

int report(const char* what, char* error, std::size_t size) {
  if (size > 0) {
    std::strncpy(error, what, size - 1);
    error[size - 1] = '\0';
  }
  return 1;
}

// OpenImageIO's error text, without its trailing newline; `fallback` when it has none.
// Lines joined with "; ", at most 400 ASCII bytes: the text ends up on one line of a log or an
// HTTP answer, and a damaged file can make a reader repeat an error thousands of times
// (joining them in place was quadratic: found by the image fuzzer).
std::string message_of(const std::string& text, const char* fallback) {
  constexpr std::size_t kLongest = 400;
  std::string out;
  for (const char c : text) {
    if (out.size() >= kLongest) {
      out += "...";
      break;
    }
    // ASCII only: readers quote bytes from the file, and a JSON answer must stay UTF-8.
    const auto byte = static_cast<unsigned char>(c);
    if (c == '\n')
      out += "; ";
    else
      out += byte < 0x20 || byte >= 0x7f ? '?' : c;
  }
  while (!out.empty() && (out.back() == ' ' || out.back() == ';')) out.pop_back();
  return out.empty() ? fallback : out;
}

// Formats whose reader or writer takes no IOProxy (ICO, among those we allow) are handed an
// anonymous in-memory file instead: /proc/self/fd/N, never a path on disk.
class MemoryFile {
 public:
  MemoryFile() : fd_(memfd_create("imagepipe-oiio", MFD_CLOEXEC)) {
    if (fd_ < 0) throw Failure("cannot create an in-memory file");
  }
  ~MemoryFile() { close(fd_); }
  MemoryFile(const MemoryFile&) = delete;
  MemoryFile& operator=(const MemoryFile&) = delete;

  std::string path() const { return "/proc/self/fd/" + std::to_string(fd_); }
  void write_all(const void* data, std::size_t size) {
    const auto* p = static_cast<const char*>(data);
    while (size > 0) {
      const ssize_t n = ::write(fd_, p, size);
      if (n <= 0) throw Failure("cannot write an in-memory file");
      p += n, size -= std::size_t(n);
    }
  }
  std::vector<unsigned char> read_all() const {
    const off_t size = lseek(fd_, 0, SEEK_END);
    std::vector<unsigned char> out(std::size_t(std::max<off_t>(size, 0)));
    if (pread(fd_, out.data(), out.size(), 0) != ssize_t(out.size()))
      throw Failure("cannot read an in-memory file");
    return out;
  }

 private:
  int fd_;
};

// EXR and HDR hold scene-referred (linear) values by definition; other formats only when
// their metadata says so.
bool stores_linear(const std::string& format) { return format == "openexr" || format == "hdr"; }

// An input opened on bytes in memory, by the format libimagepipe named.
class Input {
 public:
  explicit Input(const ImagepipeOiioInput& in) : format_(in.format), reader_(in.data, in.size) {
    input_ = ImageInput::create(in.format);
    if (!input_) throw Failure(message_of(OIIO::geterror(), "no reader for this format"));
    ImageSpec config;
    // The JPEG 2000 reader tells a JP2 file from a bare codestream by the name's extension.
    std::string name = std::string("memory.") + in.format;
    if (format_ == "jpeg2000")
      name =
          in.size >= 4 && std::memcmp(in.data, "\0\0\0\x0c", 4) == 0 ? "memory.jp2" : "memory.j2k";
    if (input_->supports("ioproxy")) {
      input_->set_ioproxy(&reader_);
      if (!input_->open(name, spec_, config))
        throw Failure(message_of(input_->geterror(), "unreadable header"));
    } else {
      file_ = std::make_unique<MemoryFile>();
      file_->write_all(in.data, in.size);
      if (!input_->open(file_->path(), spec_, config))
        throw Failure(message_of(input_->geterror(), "unreadable header"));
    }
    if (spec_.deep) throw Failure("deep images are not supported");
    if (spec_.width <= 0 || spec_.height <= 0 || spec_.nchannels <= 0)
      throw Failure("width, height or channel count is zero");
    if (spec_.depth > 1) throw Failure("volume images are not supported");
  }
  ~Input() {
    if (input_) input_->close();
  }
  Input(const Input&) = delete;
  Input& operator=(const Input&) = delete;

  const ImageSpec& spec() const { return spec_; }

  int orientation() const {
    const int o = spec_.get_int_attribute("Orientation", 1);
    return o >= 1 && o <= 8 ? o : 1;
  }

  int bits() const {
    const TypeDesc t = spec_.format;
    if (t.is_floating_point()) return 32;
    return t.size() >= 2 ? 16 : 8;
  }

  // Which of the file's channels we keep, and how many (1-4): gray, gray+alpha, RGB, RGBA.
  // PSD layers and EXR AOVs beyond RGBA are left out.
  std::pair<int, int> channels() const {
    const int n = spec_.nchannels;
    const bool alpha = spec_.alpha_channel >= 0;
    if (n == 1) return {0, 1};
    if (n == 2) return {0, 2};
    if (n == 3) return {0, 3};
    // In a BMP before version 4 the fourth byte of a 32-bit pixel is reserved, not alpha
    // (Windows and Pillow ignore it; writers leave anything there).
    if (format_ == "bmp" && spec_.get_int_attribute("bmp:version", 3) < 4) return {0, 3};
    return {0, alpha || n == 4 ? 4 : 3};
  }

  // Scene-referred (linear) data: EXR and HDR, and whatever says so. Written out to a
  // display format it needs the sRGB curve, and the reverse on the way in.
  bool linear() const {
    const std::string space = spec_.get_string_attribute("oiio:ColorSpace");
    if (!space.empty())
      return Strutil::iequals(space, "linear") || Strutil::istarts_with(space, "lin");
    return stores_linear(format_);
  }

  // The first subimage as `type`, `count` channels.
  ImageBuf read(TypeDesc type, int count, std::uint64_t max_pixels) {
    if (std::uint64_t(spec_.width) * std::uint64_t(spec_.height) > max_pixels)
      throw Failure("image is " + std::to_string(spec_.width) + "x" + std::to_string(spec_.height) +
                    " pixels, over the limit of " + std::to_string(max_pixels) + " pixels");
    ImageBuf buf(ImageSpec(spec_.width, spec_.height, count, type));
    if (!input_->read_image(0, 0, 0, count, type, buf.localpixels()))
      throw Failure(message_of(input_->geterror(), "unreadable pixel data"));
    buf.specmod().attribute("Orientation", orientation());
    return buf;
  }

 private:
  std::string format_;
  Filesystem::IOMemReader reader_;
  std::unique_ptr<MemoryFile> file_;
  std::unique_ptr<ImageInput> input_;
  ImageSpec spec_;
};

float to_srgb(float v) {
  v = std::clamp(v, 0.0f, 1.0f);
  return v <= 0.0031308f ? 12.92f * v : 1.055f * std::pow(v, 1.0f / 2.4f) - 0.055f;
}
float to_linear(float v) {
  return v <= 0.04045f ? v / 12.92f : std::pow((v + 0.055f) / 1.055f, 2.4f);
}

// The colour channels (not alpha) through `curve`, in place; `buf` holds floats.
template <typename Curve>
void apply_curve(ImageBuf& buf, Curve curve) {
  const int n = buf.nchannels();
  const int colour = n == 2 || n == 4 ? n - 1 : n;
  auto* p = static_cast<float*>(buf.localpixels());
  const std::size_t count = std::size_t(buf.spec().width) * buf.spec().height;
  for (std::size_t i = 0; i < count; ++i, p += n)
    for (int c = 0; c < colour; ++c) p[c] = curve(p[c]);
}

ImageBuf upright(ImageBuf buf, bool apply) {
  if (!apply || buf.spec().get_int_attribute("Orientation", 1) == 1) return buf;
  ImageBuf turned = ImageBufAlgo::reorient(buf);
  if (turned.has_error()) throw Failure(message_of(turned.geterror(), "cannot turn the image"));
  turned.specmod().attribute("Orientation", 1);
  return turned;
}

void fill_info(const Input& input, bool apply_orientation, ImagepipeOiioInfo* info) {
  const ImageSpec& spec = input.spec();
  const bool swap = apply_orientation && input.orientation() >= 5;
  info->width = swap ? spec.height : spec.width;
  info->height = swap ? spec.width : spec.height;
  info->channels = input.channels().second;
  info->bits = input.bits();
  info->orientation = input.orientation();
}

unsigned char* reserve(ImagepipeOiioSink* sink, std::size_t bytes) {
  unsigned char* out = sink->reserve(sink->context, bytes);
  if (!out) throw std::bad_alloc();
  return out;
}

// `buf` written as `out` asks, into `sink`.
void write(ImageBuf& buf, const ImagepipeOiioOutput& out, ImagepipeOiioSink* sink) {
  auto output = ImageOutput::create(out.format);
  if (!output) throw Failure(message_of(OIIO::geterror(), "no writer for this format"));
  const std::string format = out.format;
  TypeDesc type = out.bits == 16 ? TypeDesc::UINT16 : TypeDesc::UINT8;
  if (format == "openexr") type = TypeDesc::HALF;
  if (format == "hdr") type = TypeDesc::FLOAT;
  ImageSpec spec(buf.spec().width, buf.spec().height, buf.nchannels(), type);
  if (buf.nchannels() == 2 || buf.nchannels() == 4) spec.alpha_channel = buf.nchannels() - 1;
  // Some writers (PNM) take the depth from this attribute rather than the data type.
  if (type == TypeDesc::UINT16) spec.attribute("oiio:BitsPerSample", 16);
  if (out.quality > 0) spec.attribute("Compression", "jpeg:" + std::to_string(out.quality));
  if (format == "openexr") spec.attribute("compression", "zip");
  if (format == "tiff") spec.attribute("compression", "zip");
  if (format == "jpeg2000" && out.quality > 0 && out.quality < 100)
    spec.attribute("Compression", "jpeg:" + std::to_string(out.quality));
  const std::string name = "memory." + format;
  std::vector<unsigned char> bytes;
  Filesystem::IOVecOutput vec(bytes);
  std::unique_ptr<MemoryFile> file;
  const bool proxy = output->supports("ioproxy");
  if (proxy) {
    output->set_ioproxy(&vec);
    if (!output->open(name, spec)) throw Failure(message_of(output->geterror(), "cannot write"));
  } else {
    file = std::make_unique<MemoryFile>();
    if (!output->open(file->path(), spec))
      throw Failure(message_of(output->geterror(), "cannot write"));
  }
  // The samples converted here, in the type the file holds (floats for half): some writers
  // (PNM) mis-convert floats handed to them.
  const TypeDesc data_type = type == TypeDesc::HALF ? TypeDesc(TypeDesc::FLOAT) : type;
  std::vector<unsigned char> data(spec.image_bytes() / type.size() * data_type.size());
  if (!buf.get_pixels(ROI::All(), data_type, data.data()))
    throw Failure(message_of(buf.geterror(), "cannot convert the pixels"));
  if (!output->write_image(data_type, data.data()))
    throw Failure(message_of(output->geterror(), "cannot write"));
  if (!output->close()) throw Failure(message_of(output->geterror(), "cannot write"));
  if (!proxy) bytes = file->read_all();
  std::memcpy(reserve(sink, bytes.size()), bytes.data(), bytes.size());
}

// The decoded picture: float when it carries more than 8 bits or must change curve, with
// orientation applied as asked, and its colours as display-referred (sRGB) values.
ImageBuf read_display(Input& input, bool apply_orientation, std::uint64_t max_pixels,
                      bool keep_precision) {
  const int count = input.channels().second;
  const bool linear = input.linear();
  const bool wide = keep_precision && input.bits() > 8;
  ImageBuf buf = input.read(linear || wide ? TypeDesc::FLOAT : TypeDesc::UINT8, count, max_pixels);
  if (linear) apply_curve(buf, to_srgb);
  return upright(std::move(buf), apply_orientation);
}

int probe(const ImagepipeOiioInput* in, ImagepipeOiioInfo* info, char* error,
          std::size_t error_size) {
  try {
    const Input input(*in);
    fill_info(input, in->apply_orientation, info);
    return 0;
  } catch (const std::exception& e) {
    return report(e.what(), error, error_size);
  }
}

int decode(const ImagepipeOiioInput* in, ImagepipeOiioInfo* info, ImagepipeOiioSink* pixels,
           char* error, std::size_t error_size) {
  try {
    Input input(*in);
    fill_info(input, in->apply_orientation, info);
    const ImageBuf buf = read_display(input, in->apply_orientation, in->max_pixels, false);
    const std::size_t bytes = std::size_t(info->width) * info->height * info->channels;
    if (!buf.get_pixels(ROI::All(), TypeDesc::UINT8, reserve(pixels, bytes)))
      throw Failure(message_of(buf.geterror(), "cannot convert the pixels"));
    return 0;
  } catch (const std::bad_alloc&) {
    return report("not enough memory to decode it", error, error_size);
  } catch (const std::exception& e) {
    return report(e.what(), error, error_size);
  }
}

int encode(const unsigned char* pixels, int width, int height, int channels,
           const ImagepipeOiioOutput* out, ImagepipeOiioSink* bytes, char* error,
           std::size_t error_size) {
  try {
    const bool linear = stores_linear(out->format);
    ImageBuf buf(ImageSpec(width, height, channels, linear ? TypeDesc::FLOAT : TypeDesc::UINT8));
    if (!buf.set_pixels(ROI::All(), TypeDesc::UINT8, pixels))
      throw Failure(message_of(buf.geterror(), "cannot take the pixels"));
    if (linear) apply_curve(buf, to_linear);
    write(buf, *out, bytes);
    return 0;
  } catch (const std::bad_alloc&) {
    return report("not enough memory to encode it", error, error_size);
  } catch (const std::exception& e) {
    return report(e.what(), error, error_size);
  }
}

int transcode(const ImagepipeOiioInput* in, const ImagepipeOiioOutput* out,
              ImagepipeOiioSink* bytes, char* error, std::size_t error_size) {
  try {
    Input input(*in);
    const bool linear_out = stores_linear(out->format);
    ImageBuf buf;
    if (linear_out && input.linear()) {
      // Linear to linear: no curve either way, full precision.
      buf = upright(input.read(TypeDesc::FLOAT, input.channels().second, in->max_pixels),
                    in->apply_orientation);
    } else {
      buf = read_display(input, in->apply_orientation, in->max_pixels, true);
      if (linear_out) {
        ImageBuf wide;
        if (!ImageBufAlgo::copy(wide, buf, TypeDesc::FLOAT))
          throw Failure(message_of(wide.geterror(), "cannot convert the pixels"));
        apply_curve(wide, to_linear);
        buf = std::move(wide);
      }
    }
    write(buf, *out, bytes);
    return 0;
  } catch (const std::bad_alloc&) {
    return report("not enough memory to convert it", error, error_size);
  } catch (const std::exception& e) {
    return report(e.what(), error, error_size);
  }
}

const std::string& version() {
  static const std::string v = OIIO_VERSION_STRING;
  return v;
}

}  // namespace

extern "C" const ImagepipeOiioModule* imagepipe_oiio_module(void) {
  static const ImagepipeOiioModule module = [] {
    // One thread per call: the engine runs decodes on its own CPU pool, and OpenImageIO's
    // default pool would start a thread per core inside each of them.
    OIIO::attribute("threads", 1);
    OIIO::attribute("exr_threads", 1);
    return ImagepipeOiioModule{
        IMAGEPIPE_OIIO_ABI_VERSION, version().c_str(), probe, decode, encode, transcode};
  }();
  return &module;
}
