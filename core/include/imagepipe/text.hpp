// Text drawn with FreeType, shared by the local provider and the watermark transform.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "imagepipe/image.hpp"

namespace imagepipe {

enum class TextPosition { center, top, bottom, top_left, top_right, bottom_left, bottom_right };
std::optional<TextPosition> text_position_from_string(std::string_view s);

struct TextStyle {
  std::string font_path;       // empty: the default font (default_font_path())
  int size_px = 32;            // nominal pixel height; 0 = fit to ~1/12 of image height
  std::array<std::uint8_t, 3> rgb{255, 0, 0};
  double opacity = 0.5;        // 0..1
  TextPosition position = TextPosition::center;
  int margin_px = 16;
  bool wrap = true;            // wrap at the image width minus margins
};

// Parses "#rrggbb", "#rgb" or a few names (red, white, black, ...).
std::optional<std::array<std::uint8_t, 3>> parse_color(std::string_view s);

// The bundled/default font: $IMAGEPIPE_FONT, else DejaVu Sans from fonts-dejavu-core.
std::string default_font_path();

// Alpha-blends UTF-8 `text` onto `image` (which must have 3 or 4 channels).
// Returns the bounding box actually painted as {x, y, w, h}.
std::array<int, 4> draw_text(Image& image, std::string_view text, const TextStyle& style);

// The largest pixel size, at most max_size_px and at least 12, at which `text` laid out as
// `style` says (font, wrap, margin) fits an image of width x height.
int fit_text_size(int width, int height, std::string_view text, const TextStyle& style,
                  int max_size_px);

}  // namespace imagepipe
