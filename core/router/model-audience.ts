// T3-E: the token the router injects is scoped to the model endpoint's audience only. Azure AI Foundry project
// endpoints (`*.services.ai.azure.com/api/projects/…`) take `https://ai.azure.com`; Azure OpenAI and the Foundry
// resource's OpenAI-compatible endpoint take `https://cognitiveservices.azure.com`.

export const COGNITIVE_SERVICES_SCOPE = 'https://cognitiveservices.azure.com/.default';
export const AI_FOUNDRY_SCOPE = 'https://ai.azure.com/.default';
export const MODEL_SCOPES = [COGNITIVE_SERVICES_SCOPE, AI_FOUNDRY_SCOPE] as const;
export type ModelScope = (typeof MODEL_SCOPES)[number];

/** The scope for an endpoint URL (already validated as https). */
export function modelScopeFor(endpoint: URL): ModelScope {
  const foundryProject = endpoint.hostname.toLowerCase().endsWith('.services.ai.azure.com') && /\/api\/projects\//.test(endpoint.pathname + '/');
  return foundryProject ? AI_FOUNDRY_SCOPE : COGNITIVE_SERVICES_SCOPE;
}
