// A transforms step for one item: each input image through the transforms in order, on
// the CPU pool, decoding at most once.
#include "engine_parts.hpp"

namespace imagepipe::detail {

Task<std::vector<Artifact>> run_transform_step(ItemWork& work, ActionInstances& instances,
                                               std::vector<Artifact> inputs, bool first_decode) {
  const ItemContext& context = work.context;
  const DecodeLimits limits = work.limits;
  co_return co_await work.host.cpu->run([&instances, &inputs, &context, limits, first_decode]() {
    std::vector<Artifact> current = std::move(inputs);
    // Only the first transform to need pixels may ask for a reduced decode (JPEG at 1/2,
    // 1/4, 1/8): a later one would get pixels already shrunk for another purpose.
    bool first = first_decode;
    for (auto& transform : instances.transforms) {
      std::vector<Artifact> next;
      for (auto& a : current) {
        if (transform->needs_pixels() && !a.pixels) {
          std::pair<int, int> hint{0, 0};
          if (first) hint = transform->min_decode_size(probe_image(*a.encoded, limits));
          a.pixels = decode_image(*a.encoded, limits, hint.first, hint.second);
        }
        auto encoding = a.encoding;
        auto metadata = a.metadata;
        for (auto& out : transform->apply(std::move(a), context)) {
          if (!out.encoding) out.encoding = encoding;
          for (const auto& [k, v] : metadata.items())
            if (!out.metadata.contains(k)) out.metadata[k] = v;
          next.push_back(std::move(out));
        }
      }
      if (transform->needs_pixels()) first = false;
      current = std::move(next);
    }
    return current;
  });
}

}  // namespace imagepipe::detail
