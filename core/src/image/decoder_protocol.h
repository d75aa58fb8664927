/* The wire format between libimagepipe and imagepipe-decode (core/decoder/), the helper
 * process that runs OpenImageIO's readers on untrusted bytes. OpenImageIO's readers size
 * buffers from lengths the file declares (a 600-byte DPX asked for 1.6 GB): in a helper
 * whose data segment is capped (RLIMIT_DATA), such a file costs one failed allocation in
 * a process that is not the daemon, and a reader that crashes takes only the helper down.
 *
 * Both ends are built from one tree and run on one machine: native byte order, fixed-size
 * fields. A request is the header, then `format_size` bytes of format name,
 * `out_format_size` bytes of output format name, then `data_size` bytes of the file. A
 * reply is the header, then `payload_size` bytes: 8-bit pixels (decode), the file's bytes
 * (transcode), nothing (probe), or the error text (status other than 0). The helper reads
 * a whole request before it writes anything, so the parent may write the request and then
 * read the reply without a thread for each. */
#ifndef IMAGEPIPE_DECODER_PROTOCOL_H
#define IMAGEPIPE_DECODER_PROTOCOL_H

#include <stdint.h>

#include "image/oiio_abi.h"

#ifdef __cplusplus
extern "C" {
#endif

#define IMAGEPIPE_DECODER_MAGIC 0x31435049u /* "IPC1": also versions the format */

enum ImagepipeDecoderOp {
  IMAGEPIPE_DECODER_PROBE = 1,
  IMAGEPIPE_DECODER_DECODE = 2,
  IMAGEPIPE_DECODER_TRANSCODE = 3,
};

enum ImagepipeDecoderStatus {
  IMAGEPIPE_DECODER_OK = 0,
  IMAGEPIPE_DECODER_FAILED = 1,        /* the reader refused the file: payload says why */
  IMAGEPIPE_DECODER_OUT_OF_MEMORY = 2, /* an allocation failed under the memory limit */
  IMAGEPIPE_DECODER_UNAVAILABLE = 3,   /* the module did not load: payload says why */
};

typedef struct ImagepipeDecoderRequest {
  uint32_t magic;
  uint32_t op;
  uint32_t apply_orientation;
  int32_t out_bits;    /* transcode */
  int32_t out_quality; /* transcode */
  uint32_t format_size;
  uint32_t out_format_size;
  uint32_t reserved;
  uint64_t max_pixels;
  uint64_t memory_bytes; /* what the reader may allocate beyond the request itself */
  uint64_t data_size;
} ImagepipeDecoderRequest;

typedef struct ImagepipeDecoderReply {
  uint32_t magic;
  int32_t status;
  ImagepipeOiioInfo info;
  uint32_t reserved;
  uint64_t payload_size;
} ImagepipeDecoderReply;

#ifdef __cplusplus
}
#endif

#endif
