// The image target over the formats OpenImageIO reads (BMP, EXR, HDR, PSD, DPX, JPEG 2000,
// TGA, PNM, ICO): run by scripts/fuzz.sh's long runs, left out of the test command's smoke
// run while its open findings stand (docs/hardening.md).
#define IMAGEPIPE_FUZZ_LONG_TAIL
#include "image_fuzz.cpp"
