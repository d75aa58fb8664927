#include "image/font_cache.hpp"

#include <string>

#include "imagepipe/error.hpp"

namespace imagepipe::text {
namespace {

// Faces for a handful of (font, size) pairs stay loaded; auto-sized text on images of
// many heights would otherwise grow the cache without bound.
constexpr std::size_t kMaxFaces = 16;
// Glyph bitmaps per face, dropped all at once past this (covers any Latin text many times).
constexpr std::size_t kMaxGlyphsPerFace = 1024;

std::string describe(FT_Error error) {
  const char* text = FT_Error_String(error);
  return text ? text : "FreeType error " + std::to_string(error);
}

class FaceCache {
 public:
  FaceCache() {
    if (FT_Init_FreeType(&library_) != 0) library_ = nullptr;
  }

  std::shared_ptr<SizedFace> get(const std::string& path, int size_px) {
    std::lock_guard lock(mutex_);
    const auto key = std::make_pair(path, size_px);
    if (auto it = faces_.find(key); it != faces_.end()) {
      order_.splice(order_.begin(), order_, it->second.position);
      return it->second.face;
    }
    auto face = load(path, size_px);
    order_.push_front(key);
    faces_[key] = Slot{face, order_.begin()};
    if (faces_.size() > kMaxFaces) {
      faces_.erase(order_.back());
      order_.pop_back();
    }
    return face;
  }

 private:
  std::shared_ptr<SizedFace> load(const std::string& path, int size_px) {
    if (!library_) throw Error(ErrorClass::internal, "FreeType could not be initialised");
    FT_Face face = nullptr;
    FT_Error error;
    {
      // FT_New_Face and FT_Done_Face on one library must not run concurrently.
      std::lock_guard library_lock(library_mutex_);
      error = FT_New_Face(library_, path.c_str(), 0, &face);
    }
    if (error != 0)
      throw Error(ErrorClass::invalid_input, "cannot load font '" + path + "': " + describe(error));
    auto sized = std::make_shared<SizedFace>(face, library_mutex_);
    if ((error = FT_Set_Pixel_Sizes(face, 0, FT_UInt(size_px))) != 0)
      throw Error(ErrorClass::invalid_input, "font '" + path + "' has no size " +
                                                 std::to_string(size_px) + ": " + describe(error));
    return sized;
  }

  struct Slot {
    std::shared_ptr<SizedFace> face;
    std::list<std::pair<std::string, int>>::iterator position;
  };
  std::mutex mutex_;
  std::mutex library_mutex_;
  FT_Library library_ = nullptr;
  std::map<std::pair<std::string, int>, Slot> faces_;
  std::list<std::pair<std::string, int>> order_;  // most recently used first
};

}  // namespace

SizedFace::~SizedFace() {
  std::lock_guard lock(library_mutex_);
  FT_Done_Face(face_);
}

FT_Pos SizedFace::kerning(FT_UInt left, FT_UInt right) const {
  if (!left || !right || !FT_HAS_KERNING(face_)) return 0;
  FT_Vector delta{0, 0};
  if (FT_Get_Kerning(face_, left, right, FT_KERNING_DEFAULT, &delta) != 0) return 0;
  return delta.x;
}

GlyphPtr SizedFace::glyph(FT_UInt index) {
  if (auto it = glyphs_.find(index); it != glyphs_.end()) return it->second;
  if (glyphs_.size() >= kMaxGlyphsPerFace) glyphs_.clear();
  auto glyph = std::make_shared<Glyph>();
  // A glyph the font cannot render is drawn as nothing but still advances the pen.
  if (FT_Load_Glyph(face_, index, FT_LOAD_RENDER) == 0) {
    const FT_GlyphSlot slot = face_->glyph;
    const FT_Bitmap& bitmap = slot->bitmap;
    glyph->advance = slot->advance.x;
    if (bitmap.pixel_mode == FT_PIXEL_MODE_GRAY) {
      glyph->left = slot->bitmap_left;
      glyph->top = slot->bitmap_top;
      glyph->width = int(bitmap.width);
      glyph->rows = int(bitmap.rows);
      glyph->coverage.resize(std::size_t(glyph->width) * glyph->rows);
      for (int y = 0; y < glyph->rows; ++y) {
        const unsigned char* src = bitmap.buffer + std::ptrdiff_t(y) * bitmap.pitch;
        std::copy(src, src + glyph->width,
                  glyph->coverage.begin() + std::ptrdiff_t(y) * glyph->width);
      }
    }
  }
  return glyphs_.emplace(index, std::move(glyph)).first->second;
}

std::shared_ptr<SizedFace> face_for(const std::string& path, int size_px) {
  // Never destroyed: faces may be in use by threads still running at exit.
  static auto* cache = new FaceCache();
  return cache->get(path, size_px);
}

}  // namespace imagepipe::text
