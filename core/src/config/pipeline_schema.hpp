// The pipeline schema, one reader per section. Each reads its part of the document into
// the Pipeline and reports what is wrong; none stops at the first problem.
#pragma once

#include <functional>

#include "config/mapping.hpp"

namespace imagepipe::config {

Pipeline read_pipeline(LoadContext& context);

void read_trigger(Mapping& root, TriggerSpec& trigger);
// trigger.http.responses and trigger.http.path_params (route_schema.cpp).
void read_route_responses(Mapping& http, HttpTrigger& trigger);
void read_path_params(Mapping& http, HttpTrigger& trigger);
// trigger.http.batch and trigger.http.catalogue (extra_routes_schema.cpp). The catalogue's
// step is checked once the steps are read (check_catalogue_step).
void read_extra_routes(Mapping& http, HttpTrigger& trigger);
void check_catalogue_step(LoadContext& context, const Pipeline& pipeline);
// trigger.http.storage, required when mode is 'storage' and refused otherwise.
void read_storage_route(Mapping& http, HttpTrigger& trigger);
// mode: template: trigger.response (required) and trigger.response_schema.
void read_response(Mapping& trigger, TriggerSpec& spec);
// A template or storage route runs no job: source, provider, sink and the like are
// mistakes there.
void reject_job_sections(Mapping& root, const HttpTrigger& http);
// trigger.schedule, read after request_schema (the bodies are checked against it).
void read_schedules(Mapping& trigger_block, TriggerSpec& trigger);
void read_source(Mapping& root, SourceSpec& source);
void read_providers(Mapping& root, std::vector<ProviderEntry>& providers);
// A chain entry's params against its plugin's option types and the request schema.
void check_param_types(Mapping& entry, const PluginUse& plugin, const nlohmann::json& params);
void read_transforms(Mapping& root, std::vector<PluginUse>& transforms);
void read_sink(Mapping& root, SinkSpec& sink);
// steps (or the five-stage provider/transforms), then sink.images, which names steps.
void read_steps(Mapping& root, Pipeline& pipeline);
void read_notifiers(Mapping& root, std::vector<PluginUse>& notifiers);
void read_guards(Mapping& root, std::vector<PluginUse>& guards);
void read_requirements(Mapping& root, std::vector<Requirement>& requirements);
// The messages of the requirements not met by `overrides` and the process environment.
std::vector<std::string> unmet_requirements(const std::vector<Requirement>& requirements,
                                            const std::map<std::string, std::string>& overrides);

// Calls `read` for each entry of a key that holds one mapping or a list of mappings
// (provider, transforms, notifier).
void for_each_entry(Mapping& root, std::string_view key, const std::vector<std::string>& allowed,
                    const std::function<void(Mapping&)>& read);

}  // namespace imagepipe::config
