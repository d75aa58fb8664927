// The model rules checked before anything is sent: what each family accepts.
#include <gtest/gtest.h>

#include "imagepipe/error.hpp"
#include "openai_params.hpp"

namespace imagepipe::openai {
namespace {

using nlohmann::json;

std::string refusal(const json& options, const std::string& op) {
  try {
    check_params(resolve_params(options, json::object()), op);
  } catch (const Error& e) {
    EXPECT_EQ(e.cls(), ErrorClass::invalid_input);
    return e.what();
  }
  return {};
}

TEST(OpenAIParams, GptImageRules) {
  EXPECT_EQ(refusal({{"model", "gpt-image-1"}, {"size", "1536x1024"}, {"quality", "high"}}, "edit"),
            "");
  EXPECT_EQ(refusal({{"model", "gpt-image-1"}, {"size", "1792x1024"}}, "generate"),
            "size '1792x1024' is not accepted by gpt-image-1 (allowed: auto, 1024x1024, 1536x1024, "
            "1024x1536)");
  EXPECT_EQ(refusal({{"model", "gpt-image-1"}, {"quality", "hd"}}, "generate"),
            "quality 'hd' is not accepted by gpt-image-1 (allowed: auto, low, medium, high)");
  EXPECT_EQ(refusal({{"model", "gpt-image-1"}, {"output_compression", 80}}, "generate"),
            "output_compression needs output_format jpeg or webp");
  EXPECT_EQ(
      refusal({{"model", "gpt-image-1"}, {"background", "transparent"}, {"output_format", "jpeg"}},
              "edit"),
      "background transparent needs output_format png or webp");
  EXPECT_EQ(refusal({{"model", "gpt-image-1-mini"}, {"input_fidelity", "high"}}, "edit"),
            "input_fidelity is not accepted by gpt-image-1-mini (not on the mini model)");
  EXPECT_EQ(refusal({{"model", "gpt-image-2"}, {"size", "2048x1152"}}, "generate"), "");
  EXPECT_NE(refusal({{"model", "gpt-image-2"}, {"size", "4000x1000"}}, "generate"), "");
}

TEST(OpenAIParams, DallEAndOtherModels) {
  EXPECT_EQ(refusal({{"model", "dall-e-3"}, {"style", "natural"}, {"quality", "hd"}}, "generate"),
            "");
  EXPECT_EQ(refusal({{"model", "dall-e-3"}}, "edit"), "dall-e-3 only generates (no edit)");
  EXPECT_EQ(refusal({{"model", "dall-e-2"}, {"output_format", "png"}}, "generate"),
            "output_format is not accepted by dall-e-2 (GPT image models only)");
  EXPECT_EQ(refusal({{"model", "dall-e-2"}, {"response_format", "base64"}}, "generate"),
            "response_format 'base64' is not accepted by dall-e-2 (allowed: url, b64_json)");
  // An OpenAI-compatible host's model: sent as configured.
  EXPECT_EQ(refusal({{"model", "black-forest-labs/FLUX.1-schnell"}, {"response_format", "base64"}},
                    "generate"),
            "");
}

TEST(OpenAIParams, ItemOverridesWinAndUnknownKeysAreNamed) {
  const auto p = resolve_params({{"model", "gpt-image-1"}, {"size", "auto"}},
                                {{"size", "1024x1536"}, {"n", 2}});
  EXPECT_EQ(p.size, "1024x1536");
  EXPECT_EQ(p.n, 2);
  try {
    resolve_params({{"model", "gpt-image-1"}}, {{"sise", "auto"}});
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(std::string(e.what()).rfind(
                  "params key 'sise' is not an image parameter (allowed: model, size,", 0),
              0u);
  }
}

}  // namespace
}  // namespace imagepipe::openai
