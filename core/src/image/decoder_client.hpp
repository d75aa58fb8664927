// Requests to imagepipe-decode, the helper process that runs OpenImageIO's readers under a
// memory limit (core/decoder/, wire format in decoder_protocol.h). Helpers are started
// with posix_spawn (never fork: the daemon has many threads) on first use and kept for
// the next request, one per concurrent caller; one that crashes, overruns its time or
// runs out of memory is replaced.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "image/decoder_protocol.h"
#include "imagepipe/image.hpp"

namespace imagepipe::codec {

struct DecoderCall {
  ImagepipeDecoderOp op = IMAGEPIPE_DECODER_PROBE;
  const char* format = "";      // OpenImageIO's name, chosen from the magic number
  const char* out_format = "";  // transcode only
  int out_bits = 8;
  int out_quality = 90;
  std::string_view data;
  std::uint64_t max_pixels = 0;
  bool apply_orientation = true;
};

struct DecoderResult {
  ImagepipeOiioInfo info{};
  std::vector<std::uint8_t> payload;  // pixels (decode) or the file (transcode)
};

// Runs `call` in a helper. The reader's own refusal throws fail_corrupt(format, why);
// running out of the memory limit, crashing or overrunning the time throw
// Error(invalid_input) saying so (the caller's file is what did it); a helper that cannot
// be started throws Error(internal).
DecoderResult run_decoder(ImageFormat format, const DecoderCall& call);

// The helper executable: $IMAGEPIPE_DECODER, else imagepipe-decode in the installed tree's
// bin folder (or the build tree's), found from libimagepipe's own location.
std::string decoder_path();

}  // namespace imagepipe::codec
