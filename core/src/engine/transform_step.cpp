// A transforms step for one item: each input image through the transforms in order, on
// the CPU pool, decoding at most once. Decodes count against the process's budget for
// decoded pixels (Host::pixels): the pool probes the images a transform needs decoded,
// the job's strand waits for their bytes (a pool thread never waits), and the pool
// decodes them and goes on.
#include "engine_parts.hpp"

namespace imagepipe::detail {
namespace {

// An image to decode before the next transform runs, and the bytes reserved for it.
struct Pending {
  std::size_t artifact = 0;
  ImageInfo info;
  std::pair<int, int> hint{0, 0};
  std::shared_ptr<PixelReservation> reservation;
};

struct Progress {
  std::vector<Artifact> current;
  std::size_t next = 0;  // the next transform to run
  // Only the first transform to need pixels may ask for a reduced decode (JPEG at 1/2,
  // 1/4, 1/8): a later one would get pixels already shrunk for another purpose.
  bool first = true;
  std::vector<Pending> pending;
};

void decode(Artifact& a, Pending& p, const DecodeLimits& limits) {
  a.pixels = decode_image(*a.encoded, limits, p.hint.first, p.hint.second);
  if (p.reservation) {
    p.reservation->resize(a.pixels->pixels.size());  // a reduced decode holds less
    a.pixels->reservation = std::move(p.reservation);
  }
}

// A transform's outputs replace its input: they hold its reservation, resized to what they
// hold (a crop less, a grid split about the same).
void carry(const std::shared_ptr<PixelReservation>& held, std::vector<Artifact>& outputs) {
  if (!held) return;
  std::uint64_t bytes = 0;
  for (auto& out : outputs) {
    if (!out.pixels) continue;
    if (!out.pixels->reservation) out.pixels->reservation = held;
    if (out.pixels->reservation == held) bytes += out.pixels->pixels.size();
  }
  held->resize(bytes);
}

// On the CPU pool: decodes what was pending, then runs transforms until one needs pixels
// an image lacks. With a budget those images are probed and left pending (the strand
// reserves their bytes); without one they are decoded here.
void advance(Progress& progress, ActionInstances& instances, const ItemContext& context,
             const DecodeLimits& limits, bool budgeted) {
  for (auto& p : progress.pending) decode(progress.current[p.artifact], p, limits);
  progress.pending.clear();
  for (; progress.next < instances.transforms.size(); ++progress.next) {
    auto& transform = instances.transforms[progress.next];
    if (transform->needs_pixels()) {
      for (std::size_t i = 0; i < progress.current.size(); ++i) {
        Artifact& a = progress.current[i];
        if (a.pixels) continue;
        Pending p{i, {}, {0, 0}, nullptr};
        if (budgeted || progress.first) p.info = probe_image(*a.encoded, limits);
        if (progress.first) p.hint = transform->min_decode_size(p.info);
        if (budgeted)
          progress.pending.push_back(p);
        else
          decode(a, p, limits);
      }
      if (!progress.pending.empty()) return;
    }
    std::vector<Artifact> next;
    for (auto& a : progress.current) {
      auto encoding = a.encoding;
      auto metadata = a.metadata;
      auto held = a.pixels ? a.pixels->reservation : nullptr;
      auto outputs = transform->apply(std::move(a), context);
      carry(held, outputs);
      for (auto& out : outputs) {
        if (!out.encoding) out.encoding = encoding;
        for (const auto& [k, v] : metadata.items())
          if (!out.metadata.contains(k)) out.metadata[k] = v;
        next.push_back(std::move(out));
      }
    }
    if (transform->needs_pixels()) progress.first = false;
    progress.current = std::move(next);
  }
}

}  // namespace

Task<std::vector<Artifact>> run_transform_step(ItemWork& work, ActionInstances& instances,
                                               std::vector<Artifact> inputs, bool first_decode) {
  const ItemContext& context = work.context;
  const DecodeLimits limits = work.limits;
  PixelBudget* budget = work.host.pixels;
  Progress progress;
  progress.current = std::move(inputs);
  progress.first = first_decode;
  for (;;) {
    co_await work.host.cpu->run([&] { advance(progress, instances, context, limits, budget != nullptr); });
    if (progress.pending.empty()) break;
    // The first image waits for room when the item holds no pixels; the item then holds
    // some, so the others are taken at once (pixel_budget.hpp: why that cannot deadlock).
    for (auto& p : progress.pending)
      p.reservation = co_await budget->reserve(p.info.width, p.info.height, p.info.channels,
                                               work.pixels_held.get());
  }
  co_return std::move(progress.current);
}

}  // namespace imagepipe::detail
