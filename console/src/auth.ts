/** Sign-in against the Cognito user pool with Amplify Auth v6; tokens in memory only.
 *
 * The tokens live in `memoryStorage` (a Map): never in localStorage, sessionStorage or a cookie, so a
 * reload or a closed tab signs the person out. During an MFA challenge Amplify keeps the challenge's
 * short-lived session string (not a token) in sessionStorage until the challenge ends.
 */

import { Amplify } from "aws-amplify";
import {
  confirmSignIn,
  fetchAuthSession,
  signIn,
  signOut,
  type SignInOutput,
} from "aws-amplify/auth";
import { cognitoUserPoolsTokenProvider } from "aws-amplify/auth/cognito";
import { ConsoleLogger, type KeyValueStorageInterface } from "aws-amplify/utils";
import type { ConsoleConfig } from "./config";

/** A KeyValueStorageInterface in a Map: what Amplify's token store writes goes nowhere else. */
class MemoryStorage implements KeyValueStorageInterface {
  private readonly items = new Map<string, string>();

  async setItem(key: string, value: string): Promise<void> {
    this.items.set(key, value);
  }

  async getItem(key: string): Promise<string | null> {
    return this.items.get(key) ?? null;
  }

  async removeItem(key: string): Promise<void> {
    this.items.delete(key);
  }

  async clear(): Promise<void> {
    this.items.clear();
  }
}

const memoryStorage = new MemoryStorage();
let flow: ConsoleConfig["authFlow"] = "USER_SRP_AUTH";

export function configureAuth(config: ConsoleConfig): void {
  // Amplify warns on every call that a custom (local) Cognito endpoint is set; errors still show.
  ConsoleLogger.LOG_LEVEL = "ERROR";
  Amplify.configure({
    Auth: {
      Cognito: {
        userPoolId: config.userPoolId,
        userPoolClientId: config.userPoolClientId,
        ...(config.cognitoEndpoint !== null ? { userPoolEndpoint: config.cognitoEndpoint } : {}),
        loginWith: { username: true },
      },
    },
  });
  cognitoUserPoolsTokenProvider.setKeyValueStorage(memoryStorage);
  flow = config.authFlow;
}

/** Who is signed in: the username and the groups of the ID token's `cognito:groups` claim. */
export interface Session {
  username: string;
  groups: ReadonlySet<string>;
}

/** Where a sign-in stands after the last answer. */
export type SignInStep =
  | { kind: "done" }
  | { kind: "totpCode" }
  | { kind: "totpSetup"; secret: string; uri: string }
  | { kind: "newPassword" }
  | { kind: "unsupported"; step: string };

async function stepOf(output: SignInOutput, username: string): Promise<SignInStep> {
  const next = output.nextStep;
  switch (next.signInStep) {
    case "DONE":
      return { kind: "done" };
    case "CONFIRM_SIGN_IN_WITH_TOTP_CODE":
      return { kind: "totpCode" };
    case "CONTINUE_SIGN_IN_WITH_TOTP_SETUP":
      return {
        kind: "totpSetup",
        secret: next.totpSetupDetails.sharedSecret,
        uri: next.totpSetupDetails.getSetupUri("Hulplijn-console", username).toString(),
      };
    case "CONFIRM_SIGN_IN_WITH_NEW_PASSWORD_REQUIRED":
      return { kind: "newPassword" };
    case "CONTINUE_SIGN_IN_WITH_MFA_SELECTION":
    case "CONTINUE_SIGN_IN_WITH_MFA_SETUP_SELECTION":
      // The console supports an authenticator app (TOTP) only: choose it.
      if (next.allowedMFATypes?.includes("TOTP") ?? false) {
        return stepOf(await confirmSignIn({ challengeResponse: "TOTP" }), username);
      }
      return { kind: "unsupported", step: next.signInStep };
    default:
      return { kind: "unsupported", step: next.signInStep };
  }
}

let pendingUsername = "";

/** Start signing in with the configured flow (USER_PASSWORD_AUTH locally, USER_SRP_AUTH deployed). */
export async function startSignIn(username: string, password: string): Promise<SignInStep> {
  await signOutLocally(); // a stale token in memory would make Amplify refuse a new sign-in
  pendingUsername = username;
  const output = await signIn({ username, password, options: { authFlowType: flow } });
  return stepOf(output, username);
}

/** Answer the current challenge: a TOTP code, or a new password. */
export async function answerChallenge(response: string): Promise<SignInStep> {
  return stepOf(await confirmSignIn({ challengeResponse: response }), pendingUsername);
}

function groupsOf(claim: unknown): Set<string> {
  if (Array.isArray(claim)) {
    return new Set(claim.filter((item): item is string => typeof item === "string" && item !== ""));
  }
  return new Set();
}

/** The signed-in session, or null (no tokens, or they could not be refreshed). */
export async function currentSession(): Promise<Session | null> {
  try {
    const { tokens } = await fetchAuthSession();
    const payload = tokens?.idToken?.payload;
    if (payload === undefined) return null;
    const username = payload["cognito:username"];
    return {
      username: typeof username === "string" ? username : "",
      groups: groupsOf(payload["cognito:groups"]),
    };
  } catch {
    return null;
  }
}

/** The ID token for `Authorization: Bearer` (API Gateway's Cognito authorizer takes the ID token). */
export async function idToken(): Promise<string | null> {
  try {
    const { tokens } = await fetchAuthSession();
    return tokens?.idToken?.toString() ?? null;
  } catch {
    return null;
  }
}

/** Forget the tokens in this tab (and ask Cognito to revoke the refresh token where it can). */
export async function signOutLocally(): Promise<void> {
  try {
    await signOut();
  } catch {
    // Revocation failing (offline, a stand-in without it) must not keep the tokens around.
  }
  await memoryStorage.clear();
}

type ExpiryListener = () => void;
const expiryListeners = new Set<ExpiryListener>();

/** Called when the API answers 401: the session is over; the app shows the sign-in form again. */
export function sessionExpired(): void {
  for (const listener of expiryListeners) listener();
}

export function onSessionExpired(listener: ExpiryListener): () => void {
  expiryListeners.add(listener);
  return () => {
    expiryListeners.delete(listener);
  };
}
