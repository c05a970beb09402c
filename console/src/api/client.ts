/** The staff API's typed client, generated from ../openapi.json (openapi-typescript + openapi-fetch).
 * A changed route or schema breaks `npm run build` here, not in front of a person. */

import createClient, { type Client, type Middleware } from "openapi-fetch";
import { idToken, sessionExpired } from "../auth";
import type { components, paths } from "./schema";

export type Api = Client<paths, "application/json">;
export type Schemas = components["schemas"];

/** The bearer token of the in-memory session on every request; a 401 ends the session. */
const bearer: Middleware = {
  async onRequest({ request }) {
    const token = await idToken();
    if (token !== null) request.headers.set("Authorization", `Bearer ${token}`);
    return request;
  },
  onResponse({ response }) {
    if (response.status === 401) sessionExpired();
    return response;
  },
};

let client: Api | null = null;

export function createApi(baseUrl: string): Api {
  // No answer of the staff API belongs in a browser cache (they are about people): no-store both ways.
  client = createClient<paths, "application/json">({ baseUrl, cache: "no-store", credentials: "omit" });
  client.use(bearer);
  return client;
}

/** The client created at start-up. */
export function api(): Api {
  if (client === null) throw new Error("API client used before createApi");
  return client;
}
