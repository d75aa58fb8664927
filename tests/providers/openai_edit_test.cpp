// `openai` edit: multipart with the right part names, file names and content types; one
// `image` or several `image[]`; the mask; what the fake refuses.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "provider_harness.hpp"
#include "support/images.hpp"

namespace imagepipe::testing {
namespace {

using ::testing::HasSubstr;

const char* kEditYaml = R"(name: edit
source: {from: request, field: image, filename_field: filename}
provider:
  use: openai
  with: {operation: edit, base_url: "${FAKE_OPENAI}", api_key: "${OPENAI_KEY}", model: gpt-image-1,
         quality: high, output_format: png, input_fidelity: high}
sink: {inline: true}
)";

TEST(OpenAIEdit, OneImageIsOneImagePartWithItsTypeAndName) {
  ProviderHarness h;
  const std::string jpeg = encode(gradient(64, 48), ImageFormat::jpeg);
  auto job = h.run(kEditYaml, image_request(jpeg, "add a dog", "burger.jpeg"));
  ASSERT_EQ(job.status, "completed") << job.items[0].error;
  const Image out = output_image(job.items[0]);
  EXPECT_EQ(out.width, 64);  // size auto: the input's
  EXPECT_EQ(out.height, 48);
  EXPECT_EQ(pixel(out, 10, 10), (std::vector<std::uint8_t>{200, 40, 40}));

  const auto sent = h.fake().received("/v1/images/edits");
  ASSERT_EQ(sent.size(), 1u);
  EXPECT_THAT(sent[0].header("Content-Type").value_or(""),
              HasSubstr("multipart/form-data; boundary="));
  const FormPart* image = sent[0].part("image");
  ASSERT_NE(image, nullptr);
  EXPECT_EQ(image->filename, "burger.jpg");
  EXPECT_EQ(image->content_type, "image/jpeg");
  EXPECT_EQ(image->value, jpeg);
  EXPECT_EQ(sent[0].part("prompt")->value, "add a dog");
  EXPECT_EQ(sent[0].part("model")->value, "gpt-image-1");
  EXPECT_EQ(sent[0].part("quality")->value, "high");
  EXPECT_EQ(sent[0].part("input_fidelity")->value, "high");
  EXPECT_EQ(sent[0].part("n")->value, "1");
  EXPECT_FALSE(sent[0].part("prompt")->has_filename);
  EXPECT_EQ(sent[0].part("image[]"), nullptr);
  EXPECT_EQ(sent[0].part("mask"), nullptr);
}

TEST(OpenAIEdit, SeveralImagesAreImageArrayPartsAndTheMaskIsPng) {
  ProviderHarness h;
  ProviderRequest request;
  request.prompt = "Put both products in one gift basket";
  request.images.push_back(Artifact::from_bytes(encode(gradient(40, 40), ImageFormat::png)));
  request.images.push_back(Artifact::from_bytes(encode(gradient(30, 20), ImageFormat::webp)));
  request.mask = Artifact::from_pixels(solid(40, 40, {0, 0, 0, 0}));
  const auto result = h.call("openai",
                             {{"operation", "edit"},
                              {"base_url", h.fake().openai_base()},
                              {"api_key", h.fake().openai_key},
                              {"model", "gpt-image-1.5"},
                              {"size", "1024x1024"}},
                             request);
  ASSERT_EQ(result.images.size(), 1u);
  EXPECT_EQ(probe_image(*result.images[0].encoded).width, 1024);
  EXPECT_EQ(result.metadata["provider"], "openai");
  const auto sent = h.fake().received("/v1/images/edits");
  ASSERT_EQ(sent.size(), 1u);
  std::vector<std::pair<std::string, std::string>> files;
  for (const auto& p : sent[0].parts)
    if (p.has_filename) files.emplace_back(p.name + " " + p.filename, p.content_type);
  const std::vector<std::pair<std::string, std::string>> expected = {
      {"image[] image.png", "image/png"},
      {"image[] image-2.webp", "image/webp"},
      {"mask image-mask.png", "image/png"}};
  EXPECT_EQ(files, expected);
  EXPECT_EQ(sent[0].part("image"), nullptr);
}

TEST(OpenAIEdit, FakeRefusesOctetStreamMaskOfAnotherSizeAndUnknownParts) {
  // Straight to the fake, as a careless client would send it.
  ProviderHarness h;
  asio::io_context io;
  BeastHttpClient client(io.get_executor());
  auto post = [&](std::vector<MultipartPart> parts) {
    MultipartBody form = encode_multipart(parts);
    HttpRequest r;
    r.method = "POST";
    r.url = h.fake().openai_base() + "/images/edits";
    r.headers = {{"Authorization", "Bearer " + h.fake().openai_key},
                 {"Content-Type", form.content_type}};
    r.body = form.body;
    HttpResponse out;
    asio::co_spawn(io, client.send(r),
                   [&](std::exception_ptr, HttpResponse resp) { out = std::move(resp); });
    io.restart();
    io.run();
    return out;
  };
  const std::string png = encode(gradient(32, 32), ImageFormat::png);
  auto r = post({{"prompt", "x", "", ""}, {"image", png, "a.png", "application/octet-stream"}});
  EXPECT_EQ(r.status, 400);
  EXPECT_THAT(r.body,
              HasSubstr("Invalid file 'image': unsupported mimetype ('application/octet-stream')"));
  r = post({{"prompt", "x", "", ""}, {"image", png, "a.png", ""}});
  EXPECT_THAT(r.body, HasSubstr("missing_file_mimetype"));
  r = post({{"prompt", "x", "", ""},
            {"image", png, "a.png", "image/png"},
            {"mask", encode(gradient(16, 16), ImageFormat::png), "m.png", "image/png"}});
  EXPECT_THAT(r.body, HasSubstr("The mask must be a PNG with the same dimensions as the image."));
  r = post({{"prompt", "x", "", ""}, {"images", png, "a.png", "image/png"}});
  EXPECT_THAT(r.body, HasSubstr("Unknown parameter: 'images'."));
  r = post({{"prompt", "x", "", ""},
            {"image", png, "a.png", "image/png"},
            {"image[]", png, "b.png", "image/png"}});
  EXPECT_THAT(r.body, HasSubstr("not both"));
  r = post({{"image", png, "a.png", "image/png"}});
  EXPECT_THAT(r.body, HasSubstr("Missing required parameter: 'prompt'."));
  r = post({{"prompt", "x", "", ""},
            {"image", png, "a.png", "image/png"},
            {"response_format", "url", "", ""}});
  EXPECT_THAT(r.body, HasSubstr("Unknown parameter: 'response_format'."));
  r = post({{"prompt", "x", "", ""}, {"image", png, "a.jpg", "image/jpeg"}});
  EXPECT_THAT(r.body, HasSubstr("is not a valid image/jpeg image"));
  EXPECT_EQ(r.status, 400);

  // A body cut short, and no key at all.
  HttpRequest raw;
  raw.method = "POST";
  raw.url = h.fake().openai_base() + "/images/edits";
  raw.headers = {{"Authorization", "Bearer " + h.fake().openai_key},
                 {"Content-Type", "multipart/form-data; boundary=xyz"}};
  raw.body = "--xyz\r\nContent-Disposition: form-data; name=\"prompt\"\r\n\r\nx";
  HttpResponse out;
  asio::co_spawn(io, client.send(raw),
                 [&](std::exception_ptr, HttpResponse resp) { out = std::move(resp); });
  io.restart();
  io.run();
  EXPECT_EQ(out.status, 400);
  EXPECT_THAT(
      out.body,
      HasSubstr(
          "Invalid multipart/form-data body: part 'prompt' is not terminated by the boundary"));
  raw.headers = {{"Content-Type", "multipart/form-data; boundary=xyz"}};
  asio::co_spawn(io, client.send(raw),
                 [&](std::exception_ptr, HttpResponse resp) { out = std::move(resp); });
  io.restart();
  io.run();
  EXPECT_EQ(out.status, 401);
  EXPECT_THAT(out.body, HasSubstr("You didn't provide an API key."));
}

TEST(OpenAIEdit, PixelsOnlyInputsAreSentAsPngAndNoImageIsRefused) {
  ProviderHarness h;
  ProviderRequest request;
  request.prompt = "x";
  request.images.push_back(Artifact::from_pixels(gradient(20, 20)));  // pixels only: sent as PNG
  h.call("openai",
         {{"operation", "edit"},
          {"base_url", h.fake().openai_base()},
          {"api_key", h.fake().openai_key}},
         request);
  const auto sent = h.fake().received("/v1/images/edits");
  ASSERT_EQ(sent.size(), 1u);
  EXPECT_EQ(sent[0].part("image")->content_type, "image/png");
  EXPECT_EQ(sniff_format(sent[0].part("image")->value), ImageFormat::png);
  ProviderRequest empty;
  empty.prompt = "x";
  try {
    h.call("openai",
           {{"operation", "edit"}, {"base_url", h.fake().openai_base()}, {"api_key", "k-123456"}},
           empty);
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.cls(), ErrorClass::invalid_input);
    EXPECT_STREQ(e.what(), "edit needs an input image");
  }
}

}  // namespace
}  // namespace imagepipe::testing
