// Per-request parameters arrive as text more often than not: a `--set n=4`, a query
// string, or a default written in a template (${request.body.n:-1} renders "1"). Where
// the provider's option schema says what type a parameter is, the text is read as that
// type before the provider sees it, or the item fails naming the parameter.
#pragma once

#include <nlohmann/json.hpp>

namespace imagepipe {

// Converts, in place, each string member of `params` whose key the provider's
// `options_schema` types as integer, number or boolean. Throws Error(invalid_input)
// naming the parameter when the text is not such a value. Unknown keys are left alone
// (a provider may take parameters that are not options).
void coerce_params(nlohmann::json& params, const nlohmann::json& options_schema);

}  // namespace imagepipe
