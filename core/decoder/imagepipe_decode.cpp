// imagepipe-decode: OpenImageIO's readers in a process of their own, under a memory limit.
// libimagepipe starts it (core/src/image/decoder_client.cpp) with one end of a socket as
// stdin and stdout and the OpenImageIO module's path as its argument, and keeps it for
// the requests that follow; the wire format is core/src/image/decoder_protocol.h.
//
// Each request's reader may allocate `memory_bytes` beyond what the process holds once the
// request is read (RLIMIT_DATA covers the heap and every private writable mapping, which
// is where malloc and new get memory). An allocation past it fails; the reader's error is
// answered as "out of memory" and the process exits, so the next request starts clean.
#include <dlfcn.h>
#include <sys/resource.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <new>
#include <string>
#include <vector>

#include "image/decoder_protocol.h"

namespace {

constexpr std::size_t kErrorSize = 512;

// Set by the new-handler when an allocation fails: readers catch std::bad_alloc and report
// it in words of their own (or as "std::bad_alloc"), which must still read as the limit.
volatile bool allocation_failed = false;

void on_allocation_failure() {
  allocation_failed = true;
  std::set_new_handler(nullptr);  // the next failure throws: no loop
  throw std::bad_alloc();
}

bool read_all(void* data, std::size_t size) {
  auto* p = static_cast<char*>(data);
  while (size > 0) {
    const ssize_t n = ::read(0, p, size);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    p += n, size -= std::size_t(n);
  }
  return true;
}

bool write_all(const void* data, std::size_t size) {
  const auto* p = static_cast<const char*>(data);
  while (size > 0) {
    const ssize_t n = ::write(1, p, size);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    p += n, size -= std::size_t(n);
  }
  return true;
}

// Private writable memory the process holds now (VmData), in bytes: the baseline the
// limit is added to.
std::uint64_t data_bytes() {
  FILE* status = std::fopen("/proc/self/status", "r");
  if (!status) return 0;
  char line[256];
  std::uint64_t kb = 0;
  while (std::fgets(line, sizeof line, status))
    if (std::sscanf(line, "VmData: %lu kB", &kb) == 1) break;
  std::fclose(status);
  return kb * 1024;
}

void limit_data(std::uint64_t bytes) {
  rlimit limit{};
  getrlimit(RLIMIT_DATA, &limit);
  limit.rlim_cur = bytes == 0 || bytes > limit.rlim_max ? limit.rlim_max : rlim_t(bytes);
  setrlimit(RLIMIT_DATA, &limit);
}

struct Module {
  const ImagepipeOiioModule* table = nullptr;
  std::string problem;
};

Module load(const char* path) {
  void* so = dlopen(path, RTLD_NOW | RTLD_LOCAL);
  if (!so)
    return {nullptr, std::string("the OpenImageIO module is not installed (") + dlerror() + ")"};
  using Entry = const ImagepipeOiioModule* (*)();
  auto entry = reinterpret_cast<Entry>(dlsym(so, "imagepipe_oiio_module"));
  const ImagepipeOiioModule* table = entry ? entry() : nullptr;
  if (!table || table->abi_version != IMAGEPIPE_OIIO_ABI_VERSION)
    return {nullptr, std::string(path) + " is not an OpenImageIO module of this version"};
  return {table, {}};
}

// The reply's payload, grown once to the size the module asks for.
struct Payload {
  std::vector<unsigned char> bytes;
  ImagepipeOiioSink sink() {
    return {this, [](void* context, std::size_t size) -> unsigned char* {
              try {
                auto& self = *static_cast<Payload*>(context);
                self.bytes.resize(size);
                return self.bytes.data();
              } catch (const std::bad_alloc&) {
                return nullptr;
              }
            }};
  }
};

bool reply(int status, const ImagepipeOiioInfo& info, const void* payload, std::size_t size) {
  ImagepipeDecoderReply header{};
  header.magic = IMAGEPIPE_DECODER_MAGIC;
  header.status = status;
  header.info = info;
  header.payload_size = size;
  return write_all(&header, sizeof header) && write_all(payload, size);
}

// One request, answered. False: stop (the parent went away, or memory ran out).
bool serve(const Module& module) {
  ImagepipeDecoderRequest request{};
  if (!read_all(&request, sizeof request) || request.magic != IMAGEPIPE_DECODER_MAGIC ||
      request.format_size > 64 || request.out_format_size > 64)
    return false;
  std::string format(request.format_size, '\0'), out_format(request.out_format_size, '\0');
  std::vector<unsigned char> data;
  try {
    data.resize(request.data_size);
  } catch (const std::bad_alloc&) {
    return false;
  }
  if (!read_all(format.data(), format.size()) || !read_all(out_format.data(), out_format.size()) ||
      !read_all(data.data(), data.size()))
    return false;

  ImagepipeOiioInfo info{};
  if (!module.table) {
    reply(IMAGEPIPE_DECODER_UNAVAILABLE, info, module.problem.data(), module.problem.size());
    return true;
  }
  const ImagepipeOiioInput in{format.c_str(), data.data(), data.size(),
                              request.apply_orientation ? 1 : 0, request.max_pixels};
  const ImagepipeOiioOutput out{out_format.c_str(), request.out_bits, request.out_quality};
  Payload payload;
  ImagepipeOiioSink sink = payload.sink();
  char error[kErrorSize] = {};
  allocation_failed = false;
  std::set_new_handler(on_allocation_failure);
  limit_data(data_bytes() + request.memory_bytes);
  int failed = 1;
  switch (request.op) {
    case IMAGEPIPE_DECODER_PROBE:
      failed = module.table->probe(&in, &info, error, sizeof error);
      break;
    case IMAGEPIPE_DECODER_DECODE:
      failed = module.table->decode(&in, &info, &sink, error, sizeof error);
      break;
    case IMAGEPIPE_DECODER_TRANSCODE:
      failed = module.table->transcode(&in, &out, &sink, error, sizeof error);
      break;
    default:
      std::snprintf(error, sizeof error, "unknown request %u", request.op);
  }
  limit_data(0);
  std::set_new_handler(nullptr);
  if (allocation_failed) {
    reply(IMAGEPIPE_DECODER_OUT_OF_MEMORY, info, nullptr, 0);
    return false;  // the reader may have left state behind: the next request gets a new process
  }
  if (failed) return reply(IMAGEPIPE_DECODER_FAILED, info, error, std::strlen(error));
  return reply(IMAGEPIPE_DECODER_OK, info, payload.bytes.data(), payload.bytes.size());
}

// OpenImageIO sets itself up on first use (its format catalogue, per-thread state): done
// here, before any limit, so that memory is part of the baseline and not of a request's.
void warm_up(const Module& module) {
  if (!module.table) return;
  static const char kOnePixel[] = "P6\n1 1\n255\n\0\0\0";
  const ImagepipeOiioInput in{"pnm", kOnePixel, sizeof kOnePixel - 1, 1, 1};
  Payload payload;
  ImagepipeOiioSink sink = payload.sink();
  ImagepipeOiioInfo info{};
  char error[kErrorSize] = {};
  module.table->decode(&in, &info, &sink, error, sizeof error);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2 || isatty(0)) {
    std::fprintf(stderr,
                 "imagepipe-decode MODULE: started by libimagepipe to read images with "
                 "OpenImageIO in a process of their own; not for use by hand\n");
    return 2;
  }
  const Module module = load(argv[1]);
  warm_up(module);
  while (serve(module)) {
  }
  return 0;
}
