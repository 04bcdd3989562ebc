// The project's one JSON value type: what JSON.parse can return and JSON.stringify writes back unchanged.

export type JsonValue = null | boolean | number | string | JsonValue[] | JsonObject;

export interface JsonObject {
  [key: string]: JsonValue;
}
