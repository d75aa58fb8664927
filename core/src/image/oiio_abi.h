/* The binary contract between libimagepipe and its OpenImageIO module
 * (libimagepipe_oiio.so, core/oiio/oiio_module.cpp). OpenImageIO links about 260 shared
 * libraries, which cost every process half a second at start; the module is loaded with
 * dlopen on the first image the built-in codecs do not read, so a process that meets only
 * JPEG, PNG, WebP and GIF never pays for it.
 *
 * Plain C types only: no exception, allocator or std:: type crosses this line. Every
 * function returns 0 on success, or writes a message into `error` (NUL-terminated, cut to
 * `error_size`) and returns non-zero.
 *
 * ABI version history (checked before anything else is read from the table):
 *   1: probe, decode, encode, transcode. */
#ifndef IMAGEPIPE_OIIO_ABI_H
#define IMAGEPIPE_OIIO_ABI_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define IMAGEPIPE_OIIO_ABI_VERSION 1u

typedef struct ImagepipeOiioInfo {
  int width; /* as decoded: after orientation, when it is applied */
  int height;
  int channels;    /* 1 gray, 2 gray+alpha, 3 RGB, 4 RGBA */
  int bits;        /* of the stored samples: 8, 16, or 32 for floating point */
  int orientation; /* EXIF orientation as stored, 1-8 (1 when absent) */
} ImagepipeOiioInfo;

/* Where the module writes a result: it asks for exactly the bytes it needs, once. */
typedef struct ImagepipeOiioSink {
  void* context;
  unsigned char* (*reserve)(void* context, size_t bytes); /* NULL: out of memory */
} ImagepipeOiioSink;

/* Decode requests. `format` is OpenImageIO's format name ("openexr", "tiff", ...), chosen
 * by libimagepipe from the magic number: the module never guesses a format from bytes. */
typedef struct ImagepipeOiioInput {
  const char* format;
  const void* data;
  size_t size;
  int apply_orientation; /* turn the pixels upright per EXIF orientation */
  uint64_t max_pixels;   /* refused before any pixel buffer is allocated */
} ImagepipeOiioInput;

typedef struct ImagepipeOiioOutput {
  const char* format;
  int bits;    /* 8 or 16 (formats with float samples choose their own) */
  int quality; /* 1-100, for lossy formats */
} ImagepipeOiioOutput;

typedef struct ImagepipeOiioModule {
  uint32_t abi_version;        /* IMAGEPIPE_OIIO_ABI_VERSION: first, always */
  const char* library_version; /* OpenImageIO's, for messages */
  int (*probe)(const ImagepipeOiioInput* in, ImagepipeOiioInfo* info, char* error,
               size_t error_size);
  /* 8-bit interleaved pixels, width * height * channels bytes, into `pixels`. */
  int (*decode)(const ImagepipeOiioInput* in, ImagepipeOiioInfo* info, ImagepipeOiioSink* pixels,
                char* error, size_t error_size);
  /* 8-bit interleaved pixels to a file's bytes. */
  int (*encode)(const unsigned char* pixels, int width, int height, int channels,
                const ImagepipeOiioOutput* out, ImagepipeOiioSink* bytes, char* error,
                size_t error_size);
  /* One file to another without passing through 8 bits: 16-bit and float samples keep
   * their precision. */
  int (*transcode)(const ImagepipeOiioInput* in, const ImagepipeOiioOutput* out,
                   ImagepipeOiioSink* bytes, char* error, size_t error_size);
} ImagepipeOiioModule;

/* The one symbol the module exports. */
const ImagepipeOiioModule* imagepipe_oiio_module(void);

#ifdef __cplusplus
}
#endif

#endif
