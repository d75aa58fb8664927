// EXIF orientation: cameras and phones store the sensor's rows as they came and record how
// to turn them (an iPhone portrait is stored landscape, orientation 6). The EXIF block is
// read by libexif; the turn is done here, on 8-bit pixels, for the JPEG fast path (the
// OpenImageIO module turns the formats it reads itself).
#include <libexif/exif-data.h>

#include <cstring>
#include <memory>

#include "image/codecs.hpp"

namespace imagepipe::codec {

namespace {

struct ExifFree {
  void operator()(ExifData* data) const { exif_data_unref(data); }
};

}  // namespace

int jpeg_orientation(std::string_view bytes) {
  // libexif finds the APP1 segment itself, walking the JPEG's markers.
  if (bytes.size() > 0xFFFFFFFFu) return 1;
  std::unique_ptr<ExifData, ExifFree> exif(exif_data_new());
  if (!exif) return 1;
  // Read as stored: "follow the specification" would add the mandatory tags it lacks.
  exif_data_unset_option(exif.get(), EXIF_DATA_OPTION_FOLLOW_SPECIFICATION);
  exif_data_load_data(exif.get(), reinterpret_cast<const unsigned char*>(bytes.data()),
                      static_cast<unsigned int>(bytes.size()));
  ExifEntry* entry = exif_data_get_entry(exif.get(), EXIF_TAG_ORIENTATION);
  if (!entry || entry->format != EXIF_FORMAT_SHORT || entry->components < 1 || !entry->data ||
      entry->size < 2)
    return 1;
  const int value = exif_get_short(entry->data, exif_data_get_byte_order(exif.get()));
  return value >= 1 && value <= 8 ? value : 1;
}

Image apply_orientation(const Image& image, int orientation) {
  if (orientation <= 1 || orientation > 8) return image;
  const int w = image.width, h = image.height, c = image.channels;
  const bool swap = orientation >= 5;
  Image out(swap ? h : w, swap ? w : h, c);
  for (int y = 0; y < out.height; ++y) {
    std::uint8_t* row = out.row(y);
    for (int x = 0; x < out.width; ++x) {
      // The stored pixel shown at (x, y) once upright.
      int sx = x, sy = y;
      switch (orientation) {
        case 2:  // mirrored
          sx = w - 1 - x;
          break;
        case 3:  // upside down
          sx = w - 1 - x, sy = h - 1 - y;
          break;
        case 4:  // mirrored upside down
          sy = h - 1 - y;
          break;
        case 5:  // transposed
          sx = y, sy = x;
          break;
        case 6:  // to be turned 90 degrees clockwise
          sx = y, sy = h - 1 - x;
          break;
        case 7:  // transversed
          sx = w - 1 - y, sy = h - 1 - x;
          break;
        case 8:  // to be turned 90 degrees anticlockwise
          sx = w - 1 - y, sy = x;
          break;
      }
      std::memcpy(row + std::size_t(x) * c, image.at(sx, sy), std::size_t(c));
    }
  }
  return out;
}

}  // namespace imagepipe::codec
