// The image target over the formats OpenImageIO reads (BMP, EXR, HDR, PSD, DPX, JPEG 2000,
// TGA, PNM, ICO). The module's source is linked in, so the readers run in this process
// (their coverage guides the fuzzer) rather than in imagepipe-decode, the helper that
// bounds them in production. The helper's bound is held here instead: what C++ code
// allocates for one input beyond what was live before it may not pass the decoder's
// memory limit (kDecoderMemory, set as the process's limit too), and an allocation past it
// fails as it would under the helper's RLIMIT_DATA, with std::bad_alloc. malloc past the
// same size returns null (ASan's max_allocation_size_mb, below). A reader that asks for
// more is then the "not enough memory" answer the daemon gives, not a finding.
#include <malloc.h>

#include <atomic>
#include <cstdlib>
#include <new>

#include "imagepipe/image.hpp"

namespace {
constexpr std::size_t kDecoderMemory = std::size_t(256) << 20;
std::atomic<std::size_t> live{0};      // bytes from operator new not yet deleted
std::atomic<std::size_t> baseline{0};  // `live` when the current input started

void* allocate(std::size_t size) {
  if (size > kDecoderMemory || live.load() + size > baseline.load() + kDecoderMemory)
    throw std::bad_alloc();
  void* p = std::malloc(size ? size : 1);
  if (!p) throw std::bad_alloc();
  live += malloc_usable_size(p);
  return p;
}

void release(void* p) {
  if (!p) return;
  live -= malloc_usable_size(p);
  std::free(p);
}
}  // namespace

void* operator new(std::size_t size) { return allocate(size); }
void* operator new[](std::size_t size) { return allocate(size); }
void operator delete(void* p) noexcept { release(p); }
void operator delete[](void* p) noexcept { release(p); }
void operator delete(void* p, std::size_t) noexcept { release(p); }
void operator delete[](void* p, std::size_t) noexcept { release(p); }
// Every variant that pairs with these: ASan reports a block from its own operator new
// released by free().
void* operator new(std::size_t size, const std::nothrow_t&) noexcept {
  try {
    return allocate(size);
  } catch (const std::bad_alloc&) {
    return nullptr;
  }
}
void* operator new[](std::size_t size, const std::nothrow_t& tag) noexcept {
  return operator new(size, tag);
}
void operator delete(void* p, const std::nothrow_t&) noexcept { release(p); }
void operator delete[](void* p, const std::nothrow_t&) noexcept { release(p); }

extern "C" const char* __asan_default_options() {
  return "allocator_may_return_null=1:max_allocation_size_mb=256";
}

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  imagepipe::DecoderLimits limits;
  limits.memory_bytes = kDecoderMemory;
  imagepipe::set_decoder_limits(limits);
  return 0;
}

#define IMAGEPIPE_FUZZ_LONG_TAIL
#define IMAGEPIPE_FUZZ_INPUT_STARTS baseline = live.load()
#include "image_fuzz.cpp"
