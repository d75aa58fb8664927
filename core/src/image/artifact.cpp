#include "imagepipe/image.hpp"

namespace imagepipe {

Artifact Artifact::from_bytes(std::string bytes) {
  Artifact artifact;
  artifact.encoded_format = sniff_format(bytes);
  artifact.encoded = std::make_shared<const std::string>(std::move(bytes));
  return artifact;
}

Artifact Artifact::from_pixels(Image image) {
  Artifact artifact;
  artifact.pixels = std::move(image);
  return artifact;
}

}  // namespace imagepipe
