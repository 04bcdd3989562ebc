// Redirects from a model endpoint are never followed (T3-S, T3-T): a 3xx could send the call, with its bearer token,
// to a host that is not a pinned endpoint. Node's http(s).request never follows on its own; the model proxy must not
// either, and must not hand the Location to the agent (whose client would try to follow it).

/** True for any 3xx but 304 (a conditional-request answer, not a redirect). */
export const isRedirectStatus = (status: number): boolean => status >= 300 && status <= 399 && status !== 304;
