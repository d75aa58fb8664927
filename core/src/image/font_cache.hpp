// FreeType faces shared across threads. A face is not thread-safe, so each cached face
// has its own mutex, held while glyphs are looked up or rendered; rendered glyphs are
// immutable and shared, so painting them needs no lock.
#pragma once

#include <ft2build.h>
#include FT_FREETYPE_H

#include <list>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

namespace imagepipe::text {

// One rendered glyph: 8-bit coverage, placed relative to the pen on the baseline.
struct Glyph {
  int left = 0;  // from the pen to the bitmap's left edge
  int top = 0;   // from the baseline up to the bitmap's top edge
  int width = 0;
  int rows = 0;
  FT_Pos advance = 0;  // 26.6 fixed point
  std::vector<std::uint8_t> coverage;
};
using GlyphPtr = std::shared_ptr<const Glyph>;

// A face set to one pixel size. Use only while holding `mutex`.
class SizedFace {
 public:
  SizedFace(FT_Face face, std::mutex& library_mutex) : face_(face), library_mutex_(library_mutex) {}
  ~SizedFace();
  SizedFace(const SizedFace&) = delete;
  SizedFace& operator=(const SizedFace&) = delete;

  std::mutex mutex;
  FT_Face face() const { return face_; }
  FT_UInt index_of(char32_t codepoint) const { return FT_Get_Char_Index(face_, codepoint); }
  // 26.6 kerning between two glyph indices (0 when the font has none).
  FT_Pos kerning(FT_UInt left, FT_UInt right) const;
  GlyphPtr glyph(FT_UInt index);

 private:
  FT_Face face_;
  std::mutex& library_mutex_;
  std::unordered_map<FT_UInt, GlyphPtr> glyphs_;
};

// Returns the cached face for (path, size_px), loading it on first use. Throws
// Error(invalid_input) naming the path when the font cannot be loaded.
std::shared_ptr<SizedFace> face_for(const std::string& path, int size_px);

}  // namespace imagepipe::text
