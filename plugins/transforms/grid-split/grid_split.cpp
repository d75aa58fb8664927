// Transform `grid-split`: one image holding a rows x cols grid becomes rows*cols images,
// in row-major order (the avatar generator's 2x2 grid of variations).
#include "imagepipe/error.hpp"
#include "imagepipe/plugin.hpp"

namespace imagepipe {
namespace {

using nlohmann::json;

constexpr const char* kRows = "rows";
constexpr const char* kCols = "cols";
constexpr int kMaxCells = 16;

class GridSplit final : public Transform {
 public:
  explicit GridSplit(const json& options)
      : rows_(options.at(kRows).get<int>()), cols_(options.at(kCols).get<int>()) {}

  std::vector<Artifact> apply(Artifact in, const ItemContext&) override {
    const Image& image = *in.pixels;
    if (image.width < cols_ || image.height < rows_)
      throw Error(ErrorClass::invalid_input,
                  "grid-split: a " + std::to_string(image.width) + "x" +
                      std::to_string(image.height) + " image cannot be split into " +
                      std::to_string(rows_) + " rows and " + std::to_string(cols_) + " columns");
    std::vector<Artifact> tiles;
    // Cell edges are rounded down, so cells differ by at most a pixel and cover the image.
    for (int r = 0; r < rows_; ++r) {
      const int top = r * image.height / rows_, bottom = (r + 1) * image.height / rows_;
      for (int c = 0; c < cols_; ++c) {
        const int left = c * image.width / cols_, right = (c + 1) * image.width / cols_;
        Artifact tile =
            Artifact::from_pixels(crop_image(image, left, top, right - left, bottom - top));
        tile.encoding = in.encoding;
        tile.metadata = in.metadata;
        tile.metadata["tile"] = r * cols_ + c;
        tile.metadata["row"] = r;
        tile.metadata["col"] = c;
        tiles.push_back(std::move(tile));
      }
    }
    return tiles;
  }

 private:
  int rows_, cols_;
};

json count_option(const char* description) {
  return {{"type", "integer"},          {"minimum", 1},      {"maximum", kMaxCells}, {"default", 2},
          {"description", description}, {"examples", {2, 3}}};
}

}  // namespace
}  // namespace imagepipe

IMAGEPIPE_PLUGIN_SELF() {
  using namespace imagepipe;
  PluginDescriptor d;
  d.version = "1.0.0";
  d.summary = "Splits a grid image into one image per cell, row by row.";
  d.description =
      "For generators that return several variations as one grid (the avatar seed's 2x2). "
      "Cells are equal up to a pixel and cover the whole image; each output carries "
      "metadata tile (0-based, row-major), row and col. Follow with trim to remove the "
      "margins between cells.";
  d.options_schema = {{"type", "object"},
                      {"additionalProperties", false},
                      {"properties",
                       {{kRows, count_option("Number of rows in the grid.")},
                        {kCols, count_option("Number of columns in the grid.")}}}};
  d.examples = {{{kRows, 2}, {kCols, 2}}, {{kRows, 1}, {kCols, 4}}};
  d.factory = TransformFactory{
      [](const PluginArgs& args) { return std::make_unique<GridSplit>(args.options); }};
  return d;
}
