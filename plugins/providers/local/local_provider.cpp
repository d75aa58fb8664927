// Provider `local`: image results with no AI service, for fallbacks and demos.
//   invert       the seeds' fallback: the input with RGB inverted and a semi-transparent
//                red watermark, as PNG
//   placeholder  text-to-image without a model: the prompt written on a plain canvas
//   passthrough  the input image unchanged
#include <algorithm>
#include <charconv>
#include <optional>
#include <string_view>

#include "imagepipe/error.hpp"
#include "imagepipe/plugin.hpp"
#include "imagepipe/text.hpp"

namespace imagepipe {
namespace {

using nlohmann::json;

constexpr const char* kOperation = "operation";
constexpr const char* kWatermark = "watermark";
constexpr const char* kFont = "font";
constexpr const char* kWatermarkSize = "watermark_size";
constexpr const char* kWatermarkColor = "watermark_color";
constexpr const char* kWatermarkOpacity = "watermark_opacity";
constexpr const char* kWatermarkPosition = "watermark_position";
constexpr const char* kWatermarkMargin = "watermark_margin";
constexpr const char* kWidth = "width";
constexpr const char* kHeight = "height";
constexpr const char* kBackground = "background";
constexpr const char* kTextColor = "text_color";
constexpr const char* kCompression = "compression";
// Request parameters (ProviderRequest::params) that override the canvas size.
constexpr const char* kParamSize = "size";
constexpr int kMaxSide = 8192;

std::array<std::uint8_t, 3> color_option(const json& options, const char* key) {
  const std::string text = options.at(key).get<std::string>();
  if (auto rgb = parse_color(text)) return *rgb;
  throw Error(ErrorClass::invalid_input, std::string("local: ") + key + " '" + text +
                                             "' is not a colour (#rrggbb, #rgb or a name)");
}

std::optional<int> parse_int(std::string_view text) {
  int value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return value;
}

int checked_side(const json& v, const char* what) {
  if (!v.is_number_integer() || v.get<long long>() < 1 || v.get<long long>() > kMaxSide)
    throw Error(ErrorClass::invalid_input, std::string("local: ") + what + " must be 1.." +
                                               std::to_string(kMaxSide) + ", got " + v.dump());
  return v.get<int>();
}

// The canvas size of a placeholder: params "size": "WxH" or width/height, else options.
std::pair<int, int> canvas_size(const json& params, int width, int height) {
  if (auto it = params.find(kParamSize); it != params.end() && it->is_string() && *it != "auto") {
    const std::string text = it->get<std::string>();
    const std::size_t x = text.find_first_of("xX");
    const auto w = parse_int(std::string_view(text).substr(0, x));
    const auto h =
        x == std::string::npos ? std::nullopt : parse_int(std::string_view(text).substr(x + 1));
    if (!w || !h)
      throw Error(ErrorClass::invalid_input, "local: size '" + text + "' is not WIDTHxHEIGHT");
    return {checked_side(*w, "width"), checked_side(*h, "height")};
  }
  if (params.contains(kWidth)) width = checked_side(params.at(kWidth), "width");
  if (params.contains(kHeight)) height = checked_side(params.at(kHeight), "height");
  return {width, height};
}

void invert_rgb(Image& image) {
  const std::size_t pixels = std::size_t(image.width) * image.height;
  std::uint8_t* px = image.pixels.data();
  if (image.channels == 3) {
    for (std::size_t i = 0; i < pixels * 3; ++i) px[i] = std::uint8_t(255 - px[i]);
    return;
  }
  for (std::size_t i = 0; i < pixels; ++i, px += 4)
    px[0] = std::uint8_t(255 - px[0]), px[1] = std::uint8_t(255 - px[1]),
    px[2] = std::uint8_t(255 - px[2]);
}

class LocalProvider final : public Provider {
 public:
  explicit LocalProvider(const PluginArgs& args)
      : host_(&args.host),
        operation_(args.options.at(kOperation).get<std::string>()),
        watermark_(args.options.at(kWatermark).get<std::string>()),
        width_(args.options.at(kWidth).get<int>()),
        height_(args.options.at(kHeight).get<int>()),
        background_(color_option(args.options, kBackground)),
        text_color_(color_option(args.options, kTextColor)),
        compression_(args.options.at(kCompression).get<int>()) {
    watermark_style_.font_path = args.options.at(kFont).get<std::string>();
    watermark_style_.size_px = args.options.at(kWatermarkSize).get<int>();
    watermark_style_.rgb = color_option(args.options, kWatermarkColor);
    watermark_style_.opacity = args.options.at(kWatermarkOpacity).get<double>();
    watermark_style_.position =
        text_position_from_string(args.options.at(kWatermarkPosition).get<std::string>())
            .value_or(TextPosition::center);
    watermark_style_.margin_px = args.options.at(kWatermarkMargin).get<int>();
  }

  Task<ProviderResult> run(ProviderRequest request) override {
    // Decoding, drawing and encoding are CPU work: off the I/O threads. The request stays
    // in this coroutine's frame, which outlives the work; the lambda only refers to it.
    auto work = [this, &request]() { return produce(request); };
    if (!host_->cpu) co_return work();
    co_return co_await host_->cpu->run(std::move(work));
  }

 private:
  ProviderResult produce(const ProviderRequest& request) const {
    ProviderResult result;
    result.metadata = {{"provider", "local"}, {"operation", operation_}};
    Artifact out;
    if (operation_ == "placeholder") {
      out = placeholder(request);
    } else {
      if (request.images.empty() || !(request.images[0].encoded || request.images[0].pixels))
        throw Error(ErrorClass::invalid_input, "local: " + operation_ + " needs an input image");
      out = operation_ == "invert" ? invert(request.images[0])
            : operation_ == "grid" ? grid(request.images[0])
                                   : request.images[0];
    }
    out.metadata["provider"] = "local";
    out.metadata["operation"] = operation_;
    result.images.push_back(std::move(out));
    return result;
  }

  Artifact invert(const Artifact& input) const {
    Image image = to_rgb_channels(
        input.pixels ? *input.pixels : decode_image(*input.encoded, host_->decode_limits));
    invert_rgb(image);
    stamp(image);
    return encoded_as_png(std::move(image));
  }

  // A 2x2 grid of the input at half size on a white sheet, each copy numbered: what an
  // image model asked for "four variations in a grid" returns, for a pipeline that splits
  // the grid into tiles next.
  Artifact grid(const Artifact& input) const {
    const Image source = to_rgb_channels(
        input.pixels ? *input.pixels : decode_image(*input.encoded, host_->decode_limits));
    const int tile_w = std::max(1, source.width / 2), tile_h = std::max(1, source.height / 2);
    const int gutter = std::max(4, std::min(source.width, source.height) / 32);
    Image sheet(2 * tile_w + 3 * gutter, 2 * tile_h + 3 * gutter, 3);
    std::fill(sheet.pixels.begin(), sheet.pixels.end(), std::uint8_t{255});
    for (int t = 0; t < 4; ++t) {
      const int x0 = gutter + (t % 2) * (tile_w + gutter), y0 = gutter + (t / 2) * (tile_h + gutter);
      Image tile(tile_w, tile_h, 3);
      // Each tile pixel is the mean of the 2x2 source block it covers.
      for (int y = 0; y < tile_h; ++y)
        for (int x = 0; x < tile_w; ++x)
          for (int c = 0; c < 3; ++c) {
            const int sx = std::min(2 * x, source.width - 1), sy = std::min(2 * y, source.height - 1);
            const int sx1 = std::min(sx + 1, source.width - 1), sy1 = std::min(sy + 1, source.height - 1);
            tile.at(x, y)[c] = static_cast<std::uint8_t>(
                (source.at(sx, sy)[c] + source.at(sx1, sy)[c] + source.at(sx, sy1)[c] + source.at(sx1, sy1)[c] + 2) / 4);
          }
      TextStyle label = watermark_style_;
      label.position = TextPosition::top_left;
      if (label.size_px == 0) label.size_px = std::max(12, tile_h / 12);
      draw_text(tile, watermark_.empty() ? std::to_string(t + 1) : watermark_ + " " + std::to_string(t + 1), label);
      for (int y = 0; y < tile_h; ++y)
        std::copy(tile.row(y), tile.row(y) + std::size_t(tile_w) * 3, sheet.at(x0, y0 + y));
    }
    return encoded_as_png(std::move(sheet));
  }

  Artifact placeholder(const ProviderRequest& request) const {
    const auto [width, height] = canvas_size(request.params, width_, height_);
    Image canvas(width, height, 3);
    for (std::size_t i = 0; i < canvas.pixels.size(); i += 3)
      std::copy(background_.begin(), background_.end(), canvas.pixels.begin() + std::ptrdiff_t(i));
    TextStyle prompt_style;
    prompt_style.font_path = watermark_style_.font_path;
    prompt_style.rgb = text_color_;
    prompt_style.opacity = 1.0;
    prompt_style.margin_px = std::max(16, std::min(width, height) / 12);
    const std::string prompt = request.prompt.empty() ? "(no prompt)" : request.prompt;
    // As large as fits, up to a sixth of the height for a short prompt.
    prompt_style.size_px = fit_text_size(width, height, prompt, prompt_style, height / 6);
    draw_text(canvas, prompt, prompt_style);
    // The prompt holds the centre; the watermark marks the bottom edge.
    TextStyle mark = watermark_style_;
    mark.position = TextPosition::bottom;
    if (mark.size_px == 0) mark.size_px = std::max(12, height / 24);
    if (!watermark_.empty()) draw_text(canvas, watermark_, mark);
    return encoded_as_png(std::move(canvas));
  }

  void stamp(Image& image) const {
    if (!watermark_.empty()) draw_text(image, watermark_, watermark_style_);
  }

  Artifact encoded_as_png(Image image) const {
    Artifact out = Artifact::from_pixels(std::move(image));
    EncodeSpec png;
    png.format = ImageFormat::png;
    png.compression = compression_;
    out.encoding = png;
    return out;
  }

  const Host* host_;
  std::string operation_;
  std::string watermark_;
  TextStyle watermark_style_;
  int width_, height_;
  std::array<std::uint8_t, 3> background_, text_color_;
  int compression_;
};

json string_option(const char* description, const char* fallback, json examples) {
  return {{"type", "string"},
          {"description", description},
          {"default", fallback},
          {"examples", std::move(examples)}};
}

json color_option_schema(const char* description, const char* fallback, json examples) {
  json schema = string_option(description, fallback, std::move(examples));
  schema["pattern"] = "^(#[0-9a-fA-F]{3}|#[0-9a-fA-F]{6}|[a-zA-Z]+)$";
  return schema;
}

json side_option(const char* what) {
  return {{"type", "integer"},
          {"minimum", 1},
          {"maximum", kMaxSide},
          {"default", 1024},
          {"description", std::string(what) + " of the placeholder canvas; the request's "
                                              "params (size: \"WxH\", width, height) override it."},
          {"examples", {512, 1024}}};
}

}  // namespace
}  // namespace imagepipe

IMAGEPIPE_PLUGIN_SELF() {
  using namespace imagepipe;
  PluginDescriptor d;
  d.version = "1.0.0";
  d.summary =
      "Image results with no AI service: inverted and watermarked, a text placeholder, or "
      "passthrough.";
  d.description =
      "The last entry of a provider chain, so a job still yields an image when the AI "
      "service refuses (billing limit) or for demos with no key. invert is the seeds' "
      "fallback: the first input image with RGB inverted (alpha kept) and a "
      "semi-transparent watermark, as a fast PNG. placeholder writes the prompt on a plain "
      "canvas (no model involved) with the watermark along the bottom. passthrough returns "
      "the input unchanged. grid lays the input out four times at half size in a 2x2 grid on "
      "white, numbered (a stand-in for an image model asked for four variations). Runs on the CPU pool; a 1024x1024 JPEG takes tens of "
      "milliseconds.";
  d.options_schema = {
      {"type", "object"},
      {"additionalProperties", false},
      {"properties",
       {{kOperation,
         {{"type", "string"},
          {"enum", {"invert", "placeholder", "passthrough", "grid"}},
          {"default", "invert"},
          {"description", "What to produce (see the plugin description)."},
          {"examples", {"invert", "placeholder"}}}},
        {kWatermark, string_option("Text stamped on the result; empty for none.", "DEMO - FALLBACK",
                                   {"DEMO - FALLBACK (OpenAI billing limit)", ""})},
        {kFont, string_option("TrueType/OpenType font file; empty for the default font "
                              "($IMAGEPIPE_FONT, else DejaVu Sans).",
                              "", {"/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf"})},
        {kWatermarkSize,
         {{"type", "integer"},
          {"minimum", 0},
          {"maximum", 1000},
          {"default", 0},
          {"description",
           "Watermark text height in pixels; 0 sizes it to about 1/12 of the "
           "image height (smaller when needed to fit)."},
          {"examples", {0, 48}}}},
        {kWatermarkColor, color_option_schema("Watermark colour: #rrggbb, #rgb or a name.",
                                              "#ff0000", {"#ff0000", "white"})},
        {kWatermarkOpacity,
         {{"type", "number"},
          {"minimum", 0},
          {"maximum", 1},
          {"default", 0.5},
          {"description", "Watermark opacity, 0 (invisible) to 1 (opaque)."},
          {"examples", {0.5, 0.8}}}},
        {kWatermarkPosition,
         {{"type", "string"},
          {"enum",
           {"center", "top", "bottom", "top-left", "top-right", "bottom-left", "bottom-right"}},
          {"default", "center"},
          {"description", "Where the watermark goes (invert)."},
          {"examples", {"center", "bottom-right"}}}},
        {kWatermarkMargin,
         {{"type", "integer"},
          {"minimum", 0},
          {"maximum", 1000},
          {"default", 16},
          {"description",
           "Distance in pixels between the watermark and the image edges it is placed "
           "against (the seeds' fallback draws at 20, 20 from the top-left)."},
          {"examples", {16, 20}}}},
        {kWidth, side_option("Width")},
        {kHeight, side_option("Height")},
        {kBackground,
         color_option_schema("Placeholder background colour.", "#f2f2f2", {"#f2f2f2", "black"})},
        {kTextColor,
         color_option_schema("Placeholder prompt colour.", "#202020", {"#202020", "white"})},
        {kCompression,
         {{"type", "integer"},
          {"minimum", 0},
          {"maximum", 9},
          {"default", 2},
          {"description",
           "PNG compression of the result, as in the encode transform: 1-3 fast (the "
           "default 2 is about 3x faster than zlib level 6 at the same size on photos), "
           "6-9 the classic zlib levels."},
          {"examples", {2, 6}}}}}}};
  d.capabilities = {{"operations", {"invert", "placeholder", "passthrough", "grid"}},
                    {"max_images_per_request", 1},
                    {"sizes", "placeholder: any WxH up to 8192x8192; invert keeps the input size"},
                    {"output_format", "png"},
                    {"typical_latency_ms", 60}};
  d.examples = {{{kOperation, "invert"}, {kWatermark, "DEMO - FALLBACK (OpenAI billing limit)"}},
                {{kOperation, "placeholder"},
                 {kWidth, 1024},
                 {kHeight, 768},
                 {kBackground, "#202040"},
                 {kTextColor, "white"}}};
  d.factory =
      ProviderFactory{[](const PluginArgs& args) { return std::make_unique<LocalProvider>(args); }};
  return d;
}
