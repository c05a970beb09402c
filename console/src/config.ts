/** The runtime configuration: `./config.json`, served beside the page by the gateway (locally) or the
 * hosting (deployed). Nothing about the environment is built into the bundle. */

export type AuthFlow = "USER_PASSWORD_AUTH" | "USER_SRP_AUTH";
export type Audience = "organisation" | "custodian";

export interface ConsoleConfig {
  /** Base URL of the API this console talks to (the staff API, or the custodian's API). */
  apiUrl: string;
  region: string;
  userPoolId: string;
  userPoolClientId: string;
  /** A Cognito endpoint to use instead of Cognito's own (the local stand-in's proxy), or null. */
  cognitoEndpoint: string | null;
  authFlow: AuthFlow;
  audience: Audience;
}

export class ConfigError extends Error {}

function text(raw: Record<string, unknown>, key: string): string {
  const value = raw[key];
  if (typeof value !== "string" || value.trim() === "") {
    throw new ConfigError(`config.json: "${key}" must be a non-empty string`);
  }
  return value.trim();
}

function oneOf<T extends string>(raw: Record<string, unknown>, key: string, allowed: readonly T[]): T {
  const value = raw[key];
  const found = allowed.find((option) => option === value);
  if (found === undefined) {
    throw new ConfigError(`config.json: "${key}" must be one of ${allowed.join(", ")}`);
  }
  return found;
}

/** The config as read, checked field by field; throws ConfigError naming the first bad field. */
export function parseConfig(raw: unknown): ConsoleConfig {
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) {
    throw new ConfigError("config.json must be a JSON object");
  }
  const record = raw as Record<string, unknown>;
  const endpoint = record["cognitoEndpoint"];
  if (endpoint !== null && endpoint !== undefined && typeof endpoint !== "string") {
    throw new ConfigError('config.json: "cognitoEndpoint" must be a string or null');
  }
  return {
    apiUrl: text(record, "apiUrl").replace(/\/+$/, ""),
    region: text(record, "region"),
    userPoolId: text(record, "userPoolId"),
    userPoolClientId: text(record, "userPoolClientId"),
    cognitoEndpoint: typeof endpoint === "string" && endpoint.trim() !== "" ? endpoint.trim() : null,
    authFlow: oneOf(record, "authFlow", ["USER_PASSWORD_AUTH", "USER_SRP_AUTH"] as const),
    audience: oneOf(record, "audience", ["organisation", "custodian"] as const),
  };
}

/** Fetch and check `./config.json` (relative to the page, never cached). */
export async function loadConfig(): Promise<ConsoleConfig> {
  const response = await fetch("./config.json", { cache: "no-store", credentials: "same-origin" });
  if (!response.ok) {
    throw new ConfigError(`config.json: HTTP ${response.status}`);
  }
  return parseConfig(await response.json());
}
