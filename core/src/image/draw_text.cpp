// draw_text: UTF-8 → glyphs (FreeType, kerning) → greedy word wrap → alpha-blended paint.
#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "image/font_cache.hpp"
#include "image/utf8.hpp"
#include "imagepipe/error.hpp"
#include "imagepipe/text.hpp"

namespace imagepipe {
namespace {

using text::GlyphPtr;
using text::SizedFace;

constexpr int kMinAutoSize = 12;
constexpr int kMaxSize = 4096;

struct PlacedGlyph {
  GlyphPtr glyph;
  FT_Pos x = 0;  // 26.6, from the start of the line
};

struct Line {
  std::vector<PlacedGlyph> glyphs;
  FT_Pos width = 0;  // 26.6 advance width
};

struct Layout {
  std::vector<Line> lines;
  int line_height = 0;  // pixels between baselines
  int ascender = 0;
  int descender = 0;  // negative, below the baseline
  int width = 0;      // widest line, pixels
  int height() const {
    return lines.empty() ? 0 : int(lines.size() - 1) * line_height + ascender - descender;
  }
};

int to_pixels(FT_Pos v) { return int((v + 32) >> 6); }

// Caller holds face.mutex.
Line shape(SizedFace& face, std::u32string_view text) {
  Line line;
  FT_UInt previous = 0;
  for (char32_t cp : text) {
    const FT_UInt index = face.index_of(cp);
    line.width += face.kerning(previous, index);
    GlyphPtr glyph = face.glyph(index);
    const FT_Pos advance = glyph->advance;
    line.glyphs.push_back({std::move(glyph), line.width});
    line.width += advance;
    previous = index;
  }
  return line;
}

std::vector<std::u32string> split(std::u32string_view text, char32_t separator) {
  std::vector<std::u32string> parts(1);
  for (char32_t cp : text) {
    if (cp == separator)
      parts.emplace_back();
    else
      parts.back().push_back(cp);
  }
  return parts;
}

// Greedy wrap of one paragraph at word boundaries; a word wider than the line on its own
// is broken between characters.
std::vector<std::u32string> wrap(SizedFace& face, const std::u32string& paragraph, FT_Pos max) {
  auto fits = [&](const std::u32string& s) { return shape(face, s).width <= max; };
  std::vector<std::u32string> lines;
  std::u32string current;
  for (const std::u32string& word : split(paragraph, U' ')) {
    if (word.empty()) continue;
    std::u32string candidate = current.empty() ? word : current + U' ' + word;
    if (fits(candidate)) {
      current = std::move(candidate);
      continue;
    }
    if (!current.empty()) lines.push_back(std::exchange(current, {}));
    if (fits(word)) {
      current = word;
      continue;
    }
    for (char32_t cp : word) {
      if (!current.empty() && !fits(current + cp)) lines.push_back(std::exchange(current, {}));
      current.push_back(cp);
    }
  }
  if (!current.empty() || lines.empty()) lines.push_back(std::move(current));
  return lines;
}

std::u32string clean(std::string_view utf8) {
  std::u32string text = text::decode_utf8(utf8);
  std::u32string out;
  out.reserve(text.size());
  for (char32_t cp : text) {
    if (cp == U'\t') cp = U' ';
    if (cp == U'\n' || cp >= 0x20) out.push_back(cp);
  }
  return out;
}

Layout lay_out(SizedFace& face, const std::u32string& text, bool wrap_lines, FT_Pos max_width) {
  std::lock_guard lock(face.mutex);
  Layout layout;
  const FT_Size_Metrics& metrics = face.face()->size->metrics;
  layout.line_height = to_pixels(metrics.height);
  layout.ascender = to_pixels(metrics.ascender);
  layout.descender = to_pixels(metrics.descender);
  for (const std::u32string& paragraph : split(text, U'\n')) {
    if (!wrap_lines) {
      layout.lines.push_back(shape(face, paragraph));
      continue;
    }
    for (const std::u32string& line : wrap(face, paragraph, max_width))
      layout.lines.push_back(shape(face, line));
  }
  for (const Line& line : layout.lines)
    layout.width = std::max(layout.width, to_pixels(line.width));
  return layout;
}

struct Box {
  int x0 = 0, y0 = 0, x1 = -1, y1 = -1;  // inclusive; empty while x1 < x0
  void add(int x, int y) {
    if (x1 < x0) {
      x0 = x1 = x;
      y0 = y1 = y;
      return;
    }
    x0 = std::min(x0, x), x1 = std::max(x1, x);
    y0 = std::min(y0, y), y1 = std::max(y1, y);
  }
  std::array<int, 4> as_xywh() const {
    if (x1 < x0) return {0, 0, 0, 0};
    return {x0, y0, x1 - x0 + 1, y1 - y0 + 1};
  }
};

// Blends `rgb` at coverage × opacity ("over" compositing; RGBA targets gain alpha).
void paint_glyph(Image& image, const text::Glyph& glyph, int left, int top,
                 const std::array<std::uint8_t, 3>& rgb, int opacity, Box& box) {
  const int channels = image.channels;
  const int y_begin = std::max(0, top), y_end = std::min(image.height, top + glyph.rows);
  const int x_begin = std::max(0, left), x_end = std::min(image.width, left + glyph.width);
  for (int y = y_begin; y < y_end; ++y) {
    const std::uint8_t* coverage = glyph.coverage.data() + std::size_t(y - top) * glyph.width;
    std::uint8_t* px = image.at(x_begin, y);
    for (int x = x_begin; x < x_end; ++x, px += channels) {
      const int a = (coverage[x - left] * opacity + 127) / 255;
      if (a == 0) continue;
      box.add(x, y);
      if (channels == 3) {
        for (int c = 0; c < 3; ++c)
          px[c] = std::uint8_t((px[c] * (255 - a) + rgb[c] * a + 127) / 255);
        continue;
      }
      const int below = px[3] * (255 - a);  // destination alpha surviving under the text, ×255
      const int out_alpha = a * 255 + below;
      for (int c = 0; c < 3; ++c)
        px[c] = std::uint8_t((rgb[c] * a * 255 + px[c] * below + out_alpha / 2) / out_alpha);
      px[3] = std::uint8_t((out_alpha + 127) / 255);
    }
  }
}

int auto_size(const Image& image) { return std::max(kMinAutoSize, image.height / 12); }

// The area text may use: the image less its margins.
struct Room {
  std::string font;
  int margin = 0;
  int width = 0;
  int height = 0;
  bool holds(const Layout& layout) const {
    return layout.width <= width && layout.height() <= height;
  }
};

Room room_for(int image_width, int image_height, const TextStyle& style) {
  Room room;
  room.font = style.font_path.empty() ? default_font_path() : style.font_path;
  room.margin = std::clamp(style.margin_px, 0, std::min(image_width, image_height) / 4);
  room.width = std::max(1, image_width - 2 * room.margin);
  room.height = std::max(1, image_height - 2 * room.margin);
  return room;
}

}  // namespace

std::array<int, 4> draw_text(Image& image, std::string_view utf8, const TextStyle& style) {
  if (image.channels != 3 && image.channels != 4)
    throw Error(ErrorClass::internal, "draw_text needs an RGB or RGBA image, not " +
                                          std::to_string(image.channels) + " channels");
  const std::u32string text = clean(utf8);
  const int opacity = int(std::lround(std::clamp(style.opacity, 0.0, 1.0) * 255));
  if (text.empty() || opacity == 0 || image.width == 0 || image.height == 0) return {0, 0, 0, 0};

  const Room room = room_for(image.width, image.height, style);
  const bool automatic = style.size_px <= 0;
  int size = automatic ? auto_size(image) : std::min(style.size_px, kMaxSize);
  std::shared_ptr<SizedFace> face = text::face_for(room.font, size);
  Layout layout = lay_out(*face, text, style.wrap, FT_Pos(room.width) * 64);
  // An automatic size shrinks until the text fits the image (down to a legible minimum).
  while (automatic && size > kMinAutoSize && !room.holds(layout)) {
    size = std::max(kMinAutoSize, size * 7 / 8);
    face = text::face_for(room.font, size);
    layout = lay_out(*face, text, style.wrap, FT_Pos(room.width) * 64);
  }
  const int margin = room.margin;

  const TextPosition pos = style.position;
  const bool left = pos == TextPosition::top_left || pos == TextPosition::bottom_left;
  const bool right = pos == TextPosition::top_right || pos == TextPosition::bottom_right;
  const bool top =
      pos == TextPosition::top || pos == TextPosition::top_left || pos == TextPosition::top_right;
  const bool bottom = pos == TextPosition::bottom || pos == TextPosition::bottom_left ||
                      pos == TextPosition::bottom_right;
  const int block_top = top      ? margin
                        : bottom ? image.height - margin - layout.height()
                                 : (image.height - layout.height()) / 2;

  Box box;
  for (std::size_t i = 0; i < layout.lines.size(); ++i) {
    const Line& line = layout.lines[i];
    const int line_width = to_pixels(line.width);
    const int line_left = left    ? margin
                          : right ? image.width - margin - line_width
                                  : (image.width - line_width) / 2;
    const int baseline = block_top + layout.ascender + int(i) * layout.line_height;
    for (const PlacedGlyph& placed : line.glyphs)
      paint_glyph(image, *placed.glyph, line_left + to_pixels(placed.x) + placed.glyph->left,
                  baseline - placed.glyph->top, style.rgb, opacity, box);
  }
  return box.as_xywh();
}

int fit_text_size(int width, int height, std::string_view utf8, const TextStyle& style,
                  int max_size_px) {
  const std::u32string text = clean(utf8);
  const Room room = room_for(width, height, style);
  int low = kMinAutoSize, high = std::clamp(max_size_px, kMinAutoSize, kMaxSize);
  auto fits = [&](int size) {
    return room.holds(
        lay_out(*text::face_for(room.font, size), text, style.wrap, FT_Pos(room.width) * 64));
  };
  if (text.empty() || fits(high)) return high;
  // Larger text is taller and wraps into no fewer lines: fitting is (near enough)
  // monotonic in the size, so a bisection finds the largest size that fits.
  while (high - low > 1) {
    const int middle = (low + high) / 2;
    (fits(middle) ? low : high) = middle;
  }
  return low;
}

}  // namespace imagepipe
