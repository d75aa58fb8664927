// A corpus of hostile and malformed requests, sent byte for byte to one daemon: broken and
// abusive JSON, framings and headers, encodings, images whose headers lie, pixel and
// decompression bombs, and callback URLs in every form that reaches a metadata address.
// Each case pins its status and the exact error text, and the server answers /health after
// each one. Other files test each defect in depth; this one keeps the whole surface in view.
#include <zlib.h>

#include <thread>

#include "raw_connection.hpp"
#include "serve_fixture.hpp"

namespace imagepipe::testing {
namespace {

using namespace std::chrono_literals;

constexpr const char* kRoute = "/process-image-async-b64";
constexpr const char* kCallback = "http://127.0.0.1:9/cb";

// ---- requests, as bytes

std::string request(const std::string& body, const std::string& headers) {
  return std::string("POST ") + kRoute + " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n" +
         headers + "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
}

// A JSON body with the usual headers; `extra` adds (or, later, overrides) some.
std::string json_post(const std::string& body, const std::string& extra = "") {
  return request(body, std::string("Content-Type: application/json\r\ncallbackUrl: ") + kCallback +
                           "\r\n" + extra);
}

std::string with_image(const std::string& image_base64) {
  return json_post(json{{"prompt", "add a dog"}, {"image_base64", image_base64}}.dump());
}
std::string with_image_bytes(const std::string& bytes) { return with_image(base64_encode(bytes)); }

std::string with_callback(const std::string& url) {
  return request(json{{"prompt", "add a dog"}, {"image_base64", png_base64(8, 8)}}.dump(),
                 "Content-Type: application/json\r\ncallbackUrl: " + url + "\r\n");
}

// ---- images that lie

std::string be32(std::uint32_t v) { return {char(v >> 24), char(v >> 16), char(v >> 8), char(v)}; }
std::string le16(std::uint16_t v) { return {char(v), char(v >> 8)}; }
std::string le32(std::uint32_t v) { return {char(v), char(v >> 8), char(v >> 16), char(v >> 24)}; }

std::string png_chunk(const std::string& type, const std::string& data) {
  const std::string typed = type + data;
  const auto crc = crc32(0, reinterpret_cast<const Bytef*>(typed.data()), typed.size());
  return be32(static_cast<std::uint32_t>(data.size())) + typed +
         be32(static_cast<std::uint32_t>(crc));
}

std::string png_header(std::uint32_t width, std::uint32_t height) {
  return "\x89PNG\r\n\x1a\n" +
         png_chunk("IHDR", be32(width) + be32(height) + std::string("\x08\x02\x00\x00\x00", 5));
}

std::string deflate(const std::string& raw) {
  uLongf size = compressBound(raw.size());
  std::string out(size, '\0');
  compress2(reinterpret_cast<Bytef*>(out.data()), &size, reinterpret_cast<const Bytef*>(raw.data()),
            raw.size(), 9);
  out.resize(size);
  return out;
}

// 100x100 RGB (within the suite's 10,000-pixel limit) whose one IDAT inflates to 20 MB.
std::string png_decompression_bomb() {
  static const std::string bomb = png_header(100, 100) +
                                  png_chunk("IDAT", deflate(std::string(20u << 20, '\0'))) +
                                  png_chunk("IEND", "");
  return bomb;
}

// A GIF with a two-colour table and one frame as large as its screen, with one byte of LZW
// data for it: 30 bytes that declare 4 gigapixels.
std::string gif(std::uint16_t width, std::uint16_t height) {
  return "GIF89a" + le16(width) + le16(height) + std::string("\x80\x00\x00", 3) +
         std::string(6, '\xff') + "," + le16(0) + le16(0) + le16(width) + le16(height) +
         std::string("\x00\x02\x01\x44\x00;", 6);
}

std::string bmp_header(std::int32_t width, std::int32_t height) {
  const std::string info = le32(40) + le32(static_cast<std::uint32_t>(width)) +
                           le32(static_cast<std::uint32_t>(height)) + le16(1) + le16(24) + le32(0) +
                           le32(0) + le32(2835) + le32(2835) + le32(0) + le32(0);
  return "BM" + le32(54 + 12) + le32(0) + le32(54) + info + std::string(12, '\x7f');
}

std::string jpeg() { return encode(photo_like(64, 64), ImageFormat::jpeg); }

// ---- the table

struct Case {
  const char* name;
  std::function<std::string()> bytes;
  int status;
  std::string error;
};

std::string deep(char open, int levels) {
  std::string s;
  for (int i = 0; i < levels; ++i) s += open == '[' ? "[" : "{\"a\":";
  s += "0";
  for (int i = 0; i < levels; ++i) s += open == '[' ? "]" : "}";
  return s;
}

const std::string kValid = json{{"prompt", "x"}, {"image_base64", "QUJD"}}.dump();
const std::string kLength = "request body is ";

std::vector<Case> cases() {
  return {
      // Hostile and malformed JSON.
      {"Null", [] { return json_post("null"); }, 422, "body: must be a JSON object"},
      {"String", [] { return json_post("\"x\""); }, 422, "body: must be a JSON object"},
      {"Number", [] { return json_post("42"); }, 422, "body: must be a JSON object"},
      {"Array", [] { return json_post("[]"); }, 422, "body: must be a JSON object"},
      {"EmptyObject", [] { return json_post("{}"); }, 422,
       "body.prompt: field required; body.image_base64: field required"},
      {"Unterminated", [] { return json_post("{\"prompt\": \"x\""); }, 422,
       "body: malformed JSON: line 1, column 15: syntax error while parsing object - unexpected "
       "end of input; expected '}'"},
      {"TrailingComma", [] { return json_post("{\"prompt\": \"x\",}"); }, 422,
       "body: malformed JSON: line 1, column 16: syntax error while parsing object key - "
       "unexpected '}'; expected string literal"},
      {"SingleQuotes", [] { return json_post("{'prompt': 'x'}"); }, 422,
       "body: malformed JSON: line 1, column 2: syntax error while parsing object key - invalid "
       "literal; last read: '{''; expected string literal"},
      {"NaN", [] { return json_post("{\"prompt\": NaN}"); }, 422,
       "body: malformed JSON: line 1, column 12: syntax error while parsing value - invalid "
       "literal; last read: '\"prompt\": N'"},
      {"Comment", [] { return json_post("{/* c */ \"prompt\": \"x\"}"); }, 422,
       "body: malformed JSON: line 1, column 2: syntax error while parsing object key - invalid "
       "literal; last read: '{/'; expected string literal"},
      {"TwoValues", [] { return json_post("{}{}"); }, 422,
       "body: malformed JSON: line 1, column 3: syntax error while parsing value - unexpected '{'; "
       "expected end of input"},
      {"RawControlCharacter", [] { return json_post("{\"prompt\": \"a\x01b\"}"); }, 422,
       "body: malformed JSON: line 1, column 14: syntax error while parsing value - invalid "
       "string: control character U+001B (ESC) must be escaped to \\u001B; last read: "
       "'\"a<U+001B>'"},
      {"NumberOverflow", [] { return json_post("{\"prompt\": 1e999999}"); }, 422,
       "body: malformed JSON: number overflow parsing '1e999999'"},
      {"NegativeNumberOverflow", [] { return json_post("{\"prompt\": -1e999999}"); }, 422,
       "body: malformed JSON: number overflow parsing '-1e999999'"},
      // A key twice: the image scan read the first, the parser the last (a json_scan finding).
      {"DuplicateImageKey",
       [] {
         return json_post(R"({"prompt": "x", "image_base64": ")" + png_base64(8, 8) +
                          R"(", "image_base64": ""})");
       },
       422,
       "body: malformed JSON: duplicate key \"image_base64\" in an object (each key may appear "
       "once)"},
      {"DuplicateNestedKey", [] { return json_post(R"({"prompt": {"a": 1, "a": 2}})"); }, 422,
       "body: malformed JSON: duplicate key \"a\" in an object (each key may appear once)"},
      {"HugeInteger", [] { return json_post("{\"prompt\": 123456789012345678901234567890}"); }, 422,
       "body.image_base64: field required; body.prompt: must be a string, got number "
       "1.2345678901234568e+29"},
      {"ArraysNestedTooDeep", [] { return json_post("{\"prompt\": " + deep('[', 65) + "}"); }, 422,
       "body: JSON nested deeper than 64 levels (the limit for request bodies)"},
      {"ObjectsNestedTooDeep", [] { return json_post("{\"prompt\": " + deep('{', 65) + "}"); }, 422,
       "body: JSON nested deeper than 64 levels (the limit for request bodies)"},
      {"ArraysNested30000Deep", [] { return json_post("{\"prompt\": " + deep('[', 30000) + "}"); },
       422, "body: JSON nested deeper than 64 levels (the limit for request bodies)"},
      {"StringOverTheLimit",
       [] {
         return json_post(json{{"prompt", std::string(8193, 'x')}}.dump());
       },
       422, "body: a string of more than 8192 bytes (the limit for request bodies)"},
      {"KeyOverTheLimit",
       [] {
         return json_post(json{{std::string(8193, 'k'), 1}}.dump());
       },
       422, "body: a string of more than 8192 bytes (the limit for request bodies)"},
      {"TooManyElements",
       [] {
         std::string many = "0";
         for (int i = 0; i < 10000; ++i) many += ",0";
         return json_post("{\"a\": [" + many + "]}");
       },
       422, "body: more than 10000 members or elements (the limit for request bodies)"},
      {"InvalidUtf8", [] { return json_post("{\"prompt\": \"caf\xff\"}"); }, 422,
       "body: malformed JSON: line 1, column 16: syntax error while parsing value - invalid "
       "string: ill-formed UTF-8 byte; last read: '\"caf\xEF\xBF\xBD'"},
      {"OverlongUtf8", [] { return json_post("{\"prompt\": \"\xc0\xaf\"}"); }, 422,
       "body: malformed JSON: line 1, column 13: syntax error while parsing value - invalid "
       "string: ill-formed UTF-8 byte; last read: '\"\xEF\xBF\xBD'"},
      {"LoneSurrogateEscape", [] { return json_post("{\"prompt\": \"\\ud800\"}"); }, 422,
       "body: malformed JSON: line 1, column 19: syntax error while parsing value - invalid "
       "string: surrogate U+D800..U+DBFF must be followed by U+DC00..U+DFFF; last read: "
       "'\"\\ud800\"'"},
      {"PromptOfTheWrongType",
       [] { return json_post("{\"prompt\": [1], \"image_base64\": \"QUJD\"}"); }, 422,
       "body.prompt: must be a string, got a list; body.image_base64: not an image (unrecognised "
       "data, 3 bytes)"},
      {"BlankPrompt", [] { return json_post("{\"prompt\": \"   \", \"image_base64\": \"QUJD\"}"); },
       422,
       "body.prompt: must not be blank; body.image_base64: not an image (unrecognised data, 3 "
       "bytes)"},
      {"EmptyImage", [] { return json_post("{\"prompt\": \"x\", \"image_base64\": \"\"}"); }, 422,
       "body.image_base64: must not be empty"},
      {"ImageOfTheWrongType", [] { return json_post("{\"prompt\": \"x\", \"image_base64\": 7}"); },
       422, "body.image_base64: must be a string, got number 7"},
      // Media types and encodings.
      {"TextPlain", [] { return request(kValid, "Content-Type: text/plain\r\n"); }, 415,
       "Content-Type 'text/plain' is not accepted here; send application/json (or "
       "application/*+json)"},
      {"NoContentType", [] { return request(kValid, ""); }, 415,
       "request has a body but no Content-Type; send application/json (or application/*+json)"},
      {"Multipart",
       [] { return request(kValid, "Content-Type: multipart/form-data; boundary=x\r\n"); }, 415,
       "Content-Type 'multipart/form-data; boundary=x' is not accepted here; send "
       "application/json (or application/*+json)"},
      {"JsonLookalike", [] { return request(kValid, "Content-Type: application/jsonp\r\n"); }, 415,
       "Content-Type 'application/jsonp' is not accepted here; send application/json (or "
       "application/*+json)"},
      {"Utf16Charset",
       [] { return request(kValid, "Content-Type: application/json; charset=utf-16\r\n"); }, 415,
       "charset 'utf-16' is not accepted here; JSON is sent as UTF-8"},
      {"GzipEncoding", [] { return json_post(kValid, "Content-Encoding: gzip\r\n"); }, 415,
       "Content-Encoding 'gzip' is not accepted here; send the body uncompressed"},
      // Framing and headers.
      // Beast refuses chunked beside a length itself; other codings beside one are ours.
      {"ChunkedBesideLength", [] { return json_post(kValid, "Transfer-Encoding: chunked\r\n"); },
       400, "malformed HTTP request: bad Content-Length"},
      {"OtherCodingBesideLength",
       [] { return json_post(kValid, "Transfer-Encoding: xchunked\r\n"); }, 400,
       "Transfer-Encoding and Content-Length together: the request's length is ambiguous"},
      {"TransferEncodingNotChunked",
       [] {
         return std::string("POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: identity\r\n\r\n");
       },
       400,
       "Transfer-Encoding 'identity' does not end in chunked: the request's length cannot be "
       "determined"},
      {"TransferEncodingGzipChunked",
       [] {
         return std::string(
             "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n");
       },
       501, "Transfer-Encoding 'gzip, chunked' is not supported: only chunked"},
      {"BadChunkSize",
       [] {
         return std::string(
             "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: "
             "chunked\r\n\r\nzz\r\nab\r\n0\r\n\r\n");
       },
       400, "malformed HTTP request: bad chunk"},
      {"NegativeContentLength",
       [] { return std::string("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n"); }, 400,
       "malformed HTTP request: bad Content-Length"},
      {"ContentLengthNotANumber",
       [] { return std::string("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: ten\r\n\r\n"); }, 400,
       "malformed HTTP request: bad Content-Length"},
      {"TwoContentLengths",
       [] {
         return std::string(
             "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab");
       },
       400, "malformed HTTP request: bad Content-Length"},
      {"ContentLengthList",
       [] {
         return std::string(
             "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 1,1\r\n\r\naGET /smuggled HTTP/1.1\r\n\r\n");
       },
       400, "Content-Length must be one decimal number: the request's length is ambiguous"},
      {"HeaderWithoutColon", [] { return std::string("GET /health HTTP/1.1\r\nHost x\r\n\r\n"); },
       400, "malformed HTTP request: bad field"},
      {"SpaceBeforeColon", [] { return std::string("GET /health HTTP/1.1\r\nHost : x\r\n\r\n"); },
       400, "malformed HTTP request: bad field"},
      {"NulInHeader", [] { return std::string("GET /health HTTP/1.1\r\nX: a\0b\r\n\r\n", 32); },
       400, "malformed HTTP request: bad value"},
      {"BadMethod", [] { return std::string("G(T /health HTTP/1.1\r\nHost: x\r\n\r\n"); }, 400,
       "malformed HTTP request: bad method"},
      {"HttpVersion2", [] { return std::string("GET /health HTTP/2.0\r\nHost: x\r\n\r\n"); }, 400,
       "malformed HTTP request: bad version"},
      {"NoVersion", [] { return std::string("GET /health\r\n\r\n"); }, 400,
       "malformed HTTP request: bad target"},
      {"HeadersOverTheLimit",
       [] { return "GET /health HTTP/1.1\r\nX: " + std::string(20000, 'a') + "\r\n\r\n"; }, 431,
       "request headers are over the limit of 16384 bytes (limits.header_bytes)"},
      {"BodyOverTheLimit", [] { return json_post(std::string(70000, ' ')); }, 413,
       "request body is 70000 bytes, over the limit of 65536 bytes (limits.body_bytes)"},
      {"ChunkedBodyOverTheLimit",
       [] {
         return std::string(kRoute).insert(0, "POST ") +
                " HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: "
                "chunked\r\n\r\n11170\r\n" +
                std::string(70000, ' ') + "\r\n0\r\n\r\n";
       },
       413, "request body is over the limit of 65536 bytes (limits.body_bytes)"},
      // Images that lie, and bombs.
      {"NotBase64", [] { return with_image("this is *not* base64!"); }, 422,
       "body.image_base64: not valid base64: invalid base64: unexpected character '*' at offset 8"},
      {"NotAnImage", [] { return with_image_bytes("just some text, no image in here"); }, 422,
       "body.image_base64: not an image (unrecognised data, 32 bytes)"},
      {"PngHeaderOnly", [] { return with_image_bytes(png_header(8, 8)); }, 422,
       "body.image_base64: truncated or corrupt PNG: unexpected end of data"},
      {"PngWithBadCrc",
       [] {
         auto png = encode(solid(8, 8, {1, 2, 3}), ImageFormat::png);
         png[29] ^= 0x55;  // inside IHDR's CRC
         return with_image_bytes(png);
       },
       422, "body.image_base64: truncated or corrupt PNG: IHDR: CRC error"},
      {"PngPixelBomb", [] { return with_image_bytes(png_header(100000, 100000)); }, 422,
       "body.image_base64: image is 100000x100000 = 10000000000 pixels, over the limit of 10000 "
       "pixels"},
      // Accepted: within the pixel limit, and read as the 100x100 image it declares (libpng
      // stops at the rows the header asks for and reports the rest as extra data).
      {"PngDecompressionBomb", [] { return with_image_bytes(png_decompression_bomb()); }, 202, ""},
      {"JpegCutInHalf",
       [] {
         const auto j = jpeg();
         return with_image_bytes(j.substr(0, j.size() / 2));
       },
       422, "body.image_base64: truncated or corrupt JPEG: Premature end of JPEG file"},
      {"JpegMarkerOnly", [] { return with_image_bytes("\xff\xd8\xff"); }, 422,
       "body.image_base64: truncated or corrupt JPEG: width or height is zero"},
      {"GifPixelBomb", [] { return with_image_bytes(gif(65535, 65535)); }, 422,
       "body.image_base64: image is 65535x65535 = 4294836225 pixels, over the limit of 10000 "
       "pixels"},
      // 8x8 screen (within the pixel limit), 65535x65535 frame: once a 4 GB allocation.
      {"GifFrameLargerThanItsScreen",
       [] {
         auto bomb = gif(65535, 65535);
         bomb.replace(6, 4, le16(8) + le16(8));
         return with_image_bytes(bomb);
       },
       422,
       "body.image_base64: truncated or corrupt GIF: frame 65535x65535 is larger than its 8x8 "
       "screen"},
      {"GifWithoutAFrame",
       [] { return with_image_bytes("GIF89a" + le16(8) + le16(8) + std::string("\0\0\0;", 4)); },
       422, "body.image_base64: truncated or corrupt GIF: no image"},
      // BMP goes to OpenImageIO, whose header check refuses these before any pixel buffer.
      {"BmpPixelBomb", [] { return with_image_bytes(bmp_header(100000, 100000)); }, 422,
       "body.image_base64: truncated or corrupt BMP: Invalid image size 100000 x 100000 (3 chans, "
       "uint8), is likely corrupted"},
      {"BmpNegativeWidth", [] { return with_image_bytes(bmp_header(-8, 8)); }, 422,
       "body.image_base64: truncated or corrupt BMP: Invalid image size -8 x 8 (3 chans, uint8), "
       "is likely corrupted"},
      {"BmpShortOfPixels", [] { return with_image_bytes(bmp_header(64, 64)); }, 422,
       "body.image_base64: truncated or corrupt BMP: Read error: hit end of file"},
      {"TiffHeaderOnly", [] { return with_image_bytes(std::string("II*\0\x08\0\0\0", 8)); }, 422,
       "body.image_base64: truncated or corrupt TIFF: TIFFReadDirectory: Failed to read directory "
       "at offset 8"},
      {"WebpHeaderOnly", [] { return with_image_bytes(std::string("RIFF\x20\0\0\0WEBPVP8 ", 16)); },
       422, "body.image_base64: truncated or corrupt WEBP: unexpected end of data"},
      // Callback URLs that reach a metadata or unspecified address in disguise.
      {"CallbackDecimalHost", [] { return with_callback("http://2852039166/latest"); }, 422,
       "header.callbackUrl: refusing to connect to 169.254.169.254 (link-local/metadata address) "
       "for http://169.254.169.254:80/latest"},
      {"CallbackOctalHost", [] { return with_callback("http://0251.0376.0251.0376/"); }, 422,
       "header.callbackUrl: refusing to connect to 169.254.169.254 (link-local/metadata address) "
       "for http://169.254.169.254:80/"},
      {"CallbackHexHost", [] { return with_callback("http://0xA9FEA9FE/"); }, 422,
       "header.callbackUrl: refusing to connect to 169.254.169.254 (link-local/metadata address) "
       "for http://169.254.169.254:80/"},
      {"CallbackMixedBases", [] { return with_callback("http://0xa9.254.0251.0376/"); }, 422,
       "header.callbackUrl: refusing to connect to 169.254.169.254 (link-local/metadata address) "
       "for http://169.254.169.254:80/"},
      {"CallbackShortForm", [] { return with_callback("http://169.254.43518/"); }, 422,
       "header.callbackUrl: refusing to connect to 169.254.169.254 (link-local/metadata address) "
       "for http://169.254.169.254:80/"},
      {"CallbackTrailingDot", [] { return with_callback("http://169.254.169.254./"); }, 422,
       "header.callbackUrl: refusing to connect to 169.254.169.254 (link-local/metadata address) "
       "for http://169.254.169.254:80/"},
      {"CallbackV4MappedV6", [] { return with_callback("http://[::ffff:169.254.169.254]/"); }, 422,
       "header.callbackUrl: refusing to connect to 169.254.169.254 (link-local/metadata address) "
       "for http://[::ffff:169.254.169.254]:80/"},
      {"CallbackV4MappedV6Hex", [] { return with_callback("http://[::ffff:a9fe:a9fe]/"); }, 422,
       "header.callbackUrl: refusing to connect to 169.254.169.254 (link-local/metadata address) "
       "for http://[::ffff:a9fe:a9fe]:80/"},
      {"CallbackZoneId", [] { return with_callback("http://[fe80::1%25eth0]/"); }, 422,
       "header.callbackUrl: invalid URL 'http://[fe80::1%25eth0]/': IPv6 zone identifiers are not "
       "allowed"},
      {"CallbackLinkLocalV6", [] { return with_callback("http://[fe80::1]/"); }, 422,
       "header.callbackUrl: refusing to connect to fe80::1 (link-local/metadata address) for "
       "http://[fe80::1]:80/"},
      {"CallbackAwsV6Metadata", [] { return with_callback("http://[fd00:ec2::254]/"); }, 422,
       "header.callbackUrl: refusing to connect to fd00:ec2::254 (link-local/metadata address) for "
       "http://[fd00:ec2::254]:80/"},
      {"CallbackZeroHost", [] { return with_callback("http://0/"); }, 422,
       "header.callbackUrl: refusing to connect to 0.0.0.0 (unspecified address) for "
       "http://0.0.0.0:80/"},
      {"CallbackUserinfoDisguise",
       [] { return with_callback("http://example.com@169.254.169.254/"); }, 422,
       "header.callbackUrl: refusing to connect to 169.254.169.254 (link-local/metadata address) "
       "for http://169.254.169.254:80/"},
      {"CallbackNotAnAddress", [] { return with_callback("http://1.2.3.256/"); }, 422,
       "header.callbackUrl: invalid URL 'http://1.2.3.256/': host ends in a number but is not an "
       "IPv4 address"},
      {"CallbackFileScheme", [] { return with_callback("file:///etc/passwd"); }, 422,
       "header.callbackUrl: unsupported URL scheme 'file' in 'file:///etc/passwd' (only http and "
       "https are allowed)"},
      {"CallbackGopherScheme", [] { return with_callback("gopher://127.0.0.1:6379/_INFO"); }, 422,
       "header.callbackUrl: unsupported URL scheme 'gopher' in 'gopher://127.0.0.1:6379/_INFO' "
       "(only http and https are allowed)"},
  };
}

// Test names are the cases' names; this is what gtest prints of one.
void PrintTo(const Case& c, std::ostream* out) { *out << c.name; }

class BadInputCorpus : public ::testing::TestWithParam<Case> {
 protected:
  static void SetUpTestSuite() {
    daemon_ = new DaemonProcess(
        {.pipelines = {kWxoOfflineDir},
         .config_yaml =
             "limits: {body_bytes: 65536, image_pixels: 10000, json_string_bytes: 8192}\n"});
  }
  static void TearDownTestSuite() {
    delete daemon_;
    daemon_ = nullptr;
  }
  static DaemonProcess* daemon_;
};

DaemonProcess* BadInputCorpus::daemon_ = nullptr;

TEST_P(BadInputCorpus, IsRefusedWithItsStatusAndErrorAndTheServerLives) {
  const Case& c = GetParam();
  const std::string answer = daemon_->exchange_raw(c.bytes());
  ASSERT_GE(answer.size(), 12u) << "no answer; daemon log:\n" << daemon_->log();
  EXPECT_EQ(std::stoi(answer.substr(9, 3)), c.status) << answer.substr(0, 600);
  EXPECT_EQ(error_of(answer), c.error) << answer.substr(0, 600);
  EXPECT_EQ(daemon_->get("/health").status, 200) << daemon_->log();
}

INSTANTIATE_TEST_SUITE_P(Daemon, BadInputCorpus, ::testing::ValuesIn(cases()),
                         [](const auto& info) { return std::string(info.param.name); });

TEST(BadInputCorpusSize, HoldsAtLeastSixtyCases) { EXPECT_GE(cases().size(), 60u); }

}  // namespace
}  // namespace imagepipe::testing

namespace imagepipe::testing {
namespace {

// Callback URLs that pass every check at the door and then redirect to the metadata
// address, plainly or in disguise: a callback never follows a redirect (the receiver's
// answer is its outcome), so none is requested anywhere else.
TEST_F(ServeTest, CallbackRedirectsAreNotFollowed) {
  DaemonProcess daemon(
      {.pipelines = {kWxoOfflineDir}, .config_yaml = "callbacks: {max_attempts: 1}\n"});
  const std::vector<std::string> targets = {"http://169.254.169.254/latest/meta-data/",
                                            "http://2852039166/latest/meta-data/",
                                            "http://[::ffff:169.254.169.254]/latest"};
  for (std::size_t i = 0; i < targets.size(); ++i) {
    const std::string path = "/redirect-" + std::to_string(i);
    receiver_.on("POST", path, TestResponse{.status = 302, .headers = {{"Location", targets[i]}}});
    const auto r =
        daemon.post(kRoute, b64_request().dump(), {{"callbackUrl", receiver_.url(path)}});
    ASSERT_EQ(r.status, 202) << r.body;
    const auto id = json::parse(r.body)["job_id"].get<std::string>();
    json callback;
    for (int attempt = 0; attempt < 300; ++attempt) {
      callback = json::parse(daemon.get("/jobs/" + id).body).value("callback", json());
      if (callback.is_object() && !callback["history"].empty()) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    ASSERT_FALSE(callback["history"].empty()) << callback.dump() << daemon.log();
    EXPECT_EQ(callback["history"][0]["error"],
              "callback to " + receiver_.url(path) + " answered HTTP 302");
    EXPECT_EQ(daemon.get("/health").status, 200);
  }
  EXPECT_EQ(receiver_.requests().size(), targets.size());
}

// An image URL, by contrast, is fetched through redirects, each hop judged by the egress
// policy: one that leads to the metadata address, in any spelling, fails its item there.
TEST_F(ServeTest, ImageUrlRedirectsToAMetadataAddressAreRefusedAtTheHop) {
  const auto dir = make_temp_dir("imagepipe-fetch-");
  write_file(dir / "fetch.yaml", R"(name: fetch
trigger:
  http: {method: POST, path: /fetch, mode: sync}
  request_schema: {type: object, required: [image_url], properties: {image_url: {type: string}}}
source: {from: inputs, field: image_url}
provider: {use: slow-echo, with: {delay_ms: 0}}
sink: {inline: true}
)");
  DaemonProcess daemon({.pipelines = {(dir / "fetch.yaml").string()}});
  const std::vector<std::pair<std::string, std::string>> targets = {
      {"http://169.254.169.254/latest/meta-data/", "http://169.254.169.254:80/latest/meta-data/"},
      {"http://2852039166/latest/meta-data/", "http://169.254.169.254:80/latest/meta-data/"},
      {"http://0xA9FEA9FE./latest", "http://169.254.169.254:80/latest"},
      {"http://[::ffff:169.254.169.254]/latest", "http://[::ffff:169.254.169.254]:80/latest"}};
  for (std::size_t i = 0; i < targets.size(); ++i) {
    const std::string path = "/image-" + std::to_string(i) + ".png";
    receiver_.on("GET", path,
                 TestResponse{.status = 302, .headers = {{"Location", targets[i].first}}});
    const auto r = daemon.post("/fetch", json{{"image_url", receiver_.url(path)}}.dump());
    // A failed sync job answers by its class: the item's refusal is the client's input.
    ASSERT_EQ(r.status, 422) << r.body;
    EXPECT_EQ(json::parse(r.body)["error"],
              "image-" + std::to_string(i) +
                  ".png: refusing to connect to 169.254.169.254 (link-local/metadata address) for " +
                  targets[i].second)
        << r.body;
    EXPECT_EQ(daemon.get("/health").status, 200);
  }
}

}  // namespace
}  // namespace imagepipe::testing
