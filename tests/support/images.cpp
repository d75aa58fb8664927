#include "support/images.hpp"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <random>
#include <sstream>
#include <stdexcept>

#include "imagepipe/registry.hpp"

namespace imagepipe::testing {

Image solid(int width, int height, std::vector<std::uint8_t> color) {
  Image image(width, height, int(color.size()));
  for (std::size_t i = 0; i < image.pixels.size(); ++i) image.pixels[i] = color[i % color.size()];
  return image;
}

Image gradient(int width, int height, int channels) {
  Image image(width, height, channels);
  for (int y = 0; y < height; ++y) {
    for (int x = 0; x < width; ++x) {
      const auto r = static_cast<std::uint8_t>(width > 1 ? x * 255 / (width - 1) : 0);
      const auto g = static_cast<std::uint8_t>(height > 1 ? y * 255 / (height - 1) : 0);
      std::uint8_t* p = image.at(x, y);
      if (channels >= 3) {
        p[0] = r, p[1] = g, p[2] = 128;
        if (channels == 4) p[3] = 255;
      } else {
        p[0] = static_cast<std::uint8_t>((r + g) / 2);
        if (channels == 2) p[1] = 255;
      }
    }
  }
  return image;
}

Image photo_like(int width, int height, std::uint32_t seed) {
  Image image(width, height, 3);
  std::mt19937 random(seed);
  std::normal_distribution<float> noise(0.0f, 6.0f);
  const float cx = width * 0.6f, cy = height * 0.4f, radius = std::min(width, height) * 0.25f;
  for (int y = 0; y < height; ++y) {
    for (int x = 0; x < width; ++x) {
      const float fx = float(x) / float(std::max(1, width - 1));
      const float fy = float(y) / float(std::max(1, height - 1));
      // A sky-to-ground gradient, a soft sun and a dark diagonal band.
      float rgb[3] = {60 + 120 * fy, 110 + 90 * (1 - fy), 200 - 120 * fy};
      const float d = std::hypot(float(x) - cx, float(y) - cy);
      if (d < radius) {
        const float k = 1 - d / radius;
        rgb[0] += 120 * k, rgb[1] += 90 * k, rgb[2] -= 40 * k;
      }
      if (std::abs(fx - fy * 0.7f - 0.2f) < 0.05f) rgb[0] *= 0.4f, rgb[1] *= 0.4f, rgb[2] *= 0.5f;
      std::uint8_t* p = image.at(x, y);
      for (int c = 0; c < 3; ++c)
        p[c] = static_cast<std::uint8_t>(std::clamp(rgb[c] + noise(random), 0.0f, 255.0f));
    }
  }
  return image;
}

Image grid_2x2(int tile, int margin) {
  const int size = 2 * tile + 3 * margin;
  Image image = solid(size, size, {255, 255, 255});
  for (int t = 0; t < 4; ++t) {
    const int left = margin + (t % 2) * (tile + margin);
    const int top = margin + (t / 2) * (tile + margin);
    for (int y = top; y < top + tile; ++y)
      for (int x = left; x < left + tile; ++x)
        std::copy(kGridColors[std::size_t(t)].begin(), kGridColors[std::size_t(t)].end(),
                  image.at(x, y));
  }
  return image;
}

std::string encode(const Image& image, ImageFormat format, int quality) {
  EncodeSpec spec;
  spec.format = format;
  spec.quality = quality;
  spec.compression = 6;
  return encode_image(image, spec);
}

namespace {
bool same_shape(const Image& a, const Image& b) {
  return a.width == b.width && a.height == b.height && a.channels == b.channels &&
         a.pixels.size() == b.pixels.size();
}
}  // namespace

int max_difference(const Image& a, const Image& b) {
  if (!same_shape(a, b)) return 256;
  int worst = 0;
  for (std::size_t i = 0; i < a.pixels.size(); ++i)
    worst = std::max(worst, std::abs(int(a.pixels[i]) - int(b.pixels[i])));
  return worst;
}

double mean_difference(const Image& a, const Image& b) {
  if (!same_shape(a, b)) return 256;
  if (a.pixels.empty()) return 0;
  double sum = 0;
  for (std::size_t i = 0; i < a.pixels.size(); ++i)
    sum += std::abs(int(a.pixels[i]) - int(b.pixels[i]));
  return sum / double(a.pixels.size());
}

::testing::AssertionResult images_near(const Image& actual, const Image& expected, int tolerance) {
  if (!same_shape(actual, expected))
    return ::testing::AssertionFailure()
           << "shape " << actual.width << "x" << actual.height << "x" << actual.channels
           << ", expected " << expected.width << "x" << expected.height << "x" << expected.channels;
  for (std::size_t i = 0; i < actual.pixels.size(); ++i) {
    const int diff = std::abs(int(actual.pixels[i]) - int(expected.pixels[i]));
    if (diff > tolerance) {
      const std::size_t pixel_index = i / std::size_t(actual.channels);
      return ::testing::AssertionFailure()
             << "pixel (" << pixel_index % std::size_t(actual.width) << ", "
             << pixel_index / std::size_t(actual.width) << ") channel "
             << i % std::size_t(actual.channels) << " is " << int(actual.pixels[i]) << ", expected "
             << int(expected.pixels[i]) << " +/- " << tolerance;
    }
  }
  return ::testing::AssertionSuccess();
}

std::vector<std::uint8_t> pixel(const Image& image, int x, int y) {
  const std::uint8_t* p = image.at(x, y);
  return {p, p + image.channels};
}

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    ADD_FAILURE() << "cannot read " << path;
    return {};
  }
  std::ostringstream content;
  content << in.rdbuf();
  return content.str();
}

const PluginDescriptor& builtin_plugin(PluginKind kind, const std::string& name) {
  static const auto* registry = [] {
    auto* r = new PluginRegistry();
    register_builtin_plugins(*r);
    return r;
  }();
  const RegisteredPlugin* found = registry->find(kind, name);
  if (!found) {
    ADD_FAILURE() << "no built-in " << to_string(kind) << " plugin named " << name;
    throw std::runtime_error("no plugin " + name);
  }
  return *found->descriptor;
}

nlohmann::json checked_options(const PluginDescriptor& plugin, const nlohmann::json& with) {
  OptionCheck check = check_options(plugin, with);
  if (!check.ok()) {
    std::string issues;
    for (const OptionIssue& issue : check.issues)
      issues +=
          "\n  " + (issue.pointer.empty() ? "(options)" : issue.pointer) + ": " + issue.message;
    throw std::runtime_error(plugin.name + " options " + with.dump() +
                             " do not validate:" + issues);
  }
  return check.options;
}

std::unique_ptr<Transform> make_transform(const std::string& name, const nlohmann::json& with) {
  static const Host host;
  const PluginDescriptor& plugin = builtin_plugin(PluginKind::transform, name);
  const nlohmann::json options = checked_options(plugin, with);
  return std::get<TransformFactory>(plugin.factory)(PluginArgs{host, options});
}

std::vector<Artifact> apply_transform(const std::string& name, const nlohmann::json& with,
                                      Image image) {
  ItemContext item;
  item.name = "test.png";
  return make_transform(name, with)->apply(Artifact::from_pixels(std::move(image)), item);
}

}  // namespace imagepipe::testing
