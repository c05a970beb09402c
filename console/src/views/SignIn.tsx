/** Sign-in: username and password, then a TOTP code (or setting one up), or a new password. */

import { useEffect, useRef, useState } from "preact/hooks";
import { answerChallenge, startSignIn, type SignInStep } from "../auth";
import { TextField } from "../components/Fields";
import { ViewHeading } from "../components/ViewHeading";
import { t, type MessageKey } from "../i18n";

function errorKey(error: unknown): MessageKey {
  const name = error instanceof Error ? error.name : "";
  switch (name) {
    case "NotAuthorizedException":
    case "UserNotFoundException":
      return "signin.error.credentials";
    case "CodeMismatchException":
    case "EnableSoftwareTokenMFAException":
      return "signin.error.code";
    case "ExpiredCodeException":
    case "SignInException":
      return "signin.error.expired";
    case "LimitExceededException":
    case "TooManyRequestsException":
    case "TooManyFailedAttemptsException":
      return "signin.error.tooMany";
    case "InvalidPasswordException":
      return "signin.error.passwordPolicy";
    case "NetworkError":
    case "TypeError":
      return "error.network";
    case "PasswordResetRequiredException":
    case "UserNotConfirmedException":
      return "signin.error.askAdmin";
    default:
      return "signin.error.other";
  }
}

type Stage = Exclude<SignInStep, { kind: "done" }> | { kind: "credentials" };

export function SignIn({ notice, onDone }: { notice: string | null; onDone: () => void }) {
  const [stage, setStage] = useState<Stage>({ kind: "credentials" });
  const [username, setUsername] = useState("");
  const [password, setPassword] = useState("");
  const [code, setCode] = useState("");
  const [newPassword, setNewPassword] = useState("");
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const codeRef = useRef<HTMLDivElement>(null);

  useEffect(() => {
    if (stage.kind !== "credentials") codeRef.current?.querySelector("input")?.focus();
  }, [stage.kind]);

  async function run(action: () => Promise<SignInStep>): Promise<void> {
    setBusy(true);
    setError(null);
    try {
      const next = await action();
      setPassword("");
      setCode("");
      setNewPassword("");
      if (next.kind === "done") onDone();
      else setStage(next);
    } catch (caught) {
      setError(t(errorKey(caught)));
      setCode("");
    } finally {
      setBusy(false);
    }
  }

  const submitCredentials = (event: Event): void => {
    event.preventDefault();
    void run(() => startSignIn(username.trim(), password));
  };
  const submitCode = (event: Event): void => {
    event.preventDefault();
    void run(() => answerChallenge(code.replace(/\s+/g, "")));
  };
  const submitNewPassword = (event: Event): void => {
    event.preventDefault();
    void run(() => answerChallenge(newPassword));
  };
  const restart = (): void => {
    setStage({ kind: "credentials" });
    setError(null);
  };

  return (
    <section class="signin" aria-labelledby="view-title">
      <ViewHeading title={t("signin.title")} />
      {notice !== null ? (
        <div class="message warning" role="status">
          <p>{notice}</p>
        </div>
      ) : null}
      {error !== null ? (
        <div class="message error" role="alert">
          <p>{error}</p>
        </div>
      ) : null}

      {stage.kind === "credentials" ? (
        <form onSubmit={submitCredentials} class="form narrow">
          <TextField
            id="signin-username"
            label={t("signin.username")}
            value={username}
            onValue={setUsername}
            autoComplete="username"
            spellcheck={false}
            required
          />
          <TextField
            id="signin-password"
            label={t("signin.password")}
            type="password"
            value={password}
            onValue={setPassword}
            autoComplete="current-password"
            required
          />
          <button type="submit" disabled={busy}>
            {t("signin.submit")}
          </button>
        </form>
      ) : null}

      {stage.kind === "totpCode" || stage.kind === "totpSetup" ? (
        <form onSubmit={submitCode} class="form narrow">
          {stage.kind === "totpSetup" ? (
            <div class="message info">
              <h2>{t("signin.totpSetup.title")}</h2>
              <p>{t("signin.totpSetup.explain")}</p>
              <p>
                {t("signin.totpSetup.secret")} <code class="secret">{stage.secret}</code>
              </p>
              <details>
                <summary>{t("signin.totpSetup.uri")}</summary>
                <p>
                  <code class="secret">{stage.uri}</code>
                </p>
              </details>
            </div>
          ) : (
            <p>{t("signin.totp.explain")}</p>
          )}
          <div ref={codeRef}>
            <TextField
              id="signin-code"
              label={t("signin.code")}
              hint={t("signin.code.hint")}
              value={code}
              onValue={setCode}
              inputMode="numeric"
              pattern="[0-9 ]{6,7}"
              maxLength={7}
              autoComplete="one-time-code"
              required
            />
          </div>
          <button type="submit" disabled={busy}>
            {t("signin.confirm")}
          </button>{" "}
          <button type="button" class="secondary" onClick={restart}>
            {t("signin.restart")}
          </button>
        </form>
      ) : null}

      {stage.kind === "newPassword" ? (
        <form onSubmit={submitNewPassword} class="form narrow">
          <p>{t("signin.newPassword.explain")}</p>
          <div ref={codeRef}>
            <TextField
              id="signin-new-password"
              label={t("signin.newPassword")}
              type="password"
              value={newPassword}
              onValue={setNewPassword}
              autoComplete="new-password"
              required
            />
          </div>
          <button type="submit" disabled={busy}>
            {t("signin.newPassword.submit")}
          </button>
        </form>
      ) : null}

      {stage.kind === "unsupported" ? (
        <div class="message error" role="alert">
          <p>{t("signin.unsupported", { step: stage.step })}</p>
          <button type="button" class="secondary" onClick={restart}>
            {t("signin.restart")}
          </button>
        </div>
      ) : null}
    </section>
  );
}
