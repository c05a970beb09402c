/** The shell: sign-in, navigation by the person's groups, the current view, language, status region. */

import type { FunctionComponent } from "preact";
import { useEffect, useState } from "preact/hooks";
import { currentSession, onSessionExpired, signOutLocally, type Session } from "./auth";
import type { ConsoleConfig } from "./config";
import { claimDrafts, clearDrafts } from "./drafts";
import { setLang, t, useLang, type MessageKey } from "./i18n";
import { href, useRoute, viewsFor, type ViewId } from "./routes";
import { useAnnouncement } from "./status";
import { Audit } from "./views/Audit";
import { Decisions } from "./views/Decisions";
import { Disclosures } from "./views/Disclosures";
import { Lines } from "./views/Lines";
import { Register } from "./views/Register";
import { Releases } from "./views/Releases";
import { Reports } from "./views/Reports";
import { SignIn } from "./views/SignIn";
import { Stats } from "./views/Stats";
import { Supervision } from "./views/Supervision";
import { Transcripts } from "./views/Transcripts";
import type { ViewProps } from "./views/types";

const COMPONENTS: Record<ViewId, FunctionComponent<ViewProps>> = {
  reports: Reports,
  register: Register,
  transcripts: Transcripts,
  supervision: Supervision,
  stats: Stats,
  lines: Lines,
  disclosures: Disclosures,
  decisions: Decisions,
  audit: Audit,
  releases: Releases,
};

type Phase =
  | { kind: "starting" }
  | { kind: "signedOut"; notice: MessageKey | null }
  | { kind: "signedIn"; session: Session };

function LanguageToggle() {
  const lang = useLang();
  const next = lang === "nl" ? "en" : "nl";
  return (
    <button type="button" class="link-button" lang={next} onClick={() => setLang(next)}>
      {next === "en" ? "English" : "Nederlands"}
    </button>
  );
}

function StatusRegion() {
  const text = useAnnouncement();
  return (
    <div class="status-bar" role="status" aria-live="polite" aria-atomic="true">
      {text}
    </div>
  );
}

function SkipLink() {
  return (
    <a
      class="skip-link"
      href="#main"
      onClick={(event) => {
        // The hash is the router's: move focus without changing it.
        event.preventDefault();
        document.getElementById("main")?.focus();
      }}
    >
      {t("app.skip")}
    </a>
  );
}

export function App({ config }: { config: ConsoleConfig }) {
  useLang();
  const [phase, setPhase] = useState<Phase>({ kind: "starting" });
  const route = useRoute();

  useEffect(() => {
    void currentSession().then((session) => {
      if (session !== null) {
        claimDrafts(session.username);
        setPhase({ kind: "signedIn", session });
      } else {
        setPhase({ kind: "signedOut", notice: null });
      }
    });
    // A 401 from the API: back to the sign-in form; what was typed stays in the drafts.
    return onSessionExpired(() => {
      void signOutLocally();
      setPhase((current) => (current.kind === "signedIn" ? { kind: "signedOut", notice: "signin.expired" } : current));
    });
  }, []);

  const signedIn = async (): Promise<void> => {
    const session = await currentSession();
    if (session === null) {
      setPhase({ kind: "signedOut", notice: "signin.error.other" });
      return;
    }
    claimDrafts(session.username);
    setPhase({ kind: "signedIn", session });
  };

  const signOut = async (): Promise<void> => {
    await signOutLocally();
    clearDrafts();
    setPhase({ kind: "signedOut", notice: "signin.signedOut" });
  };

  const views = phase.kind === "signedIn" ? viewsFor(phase.session.groups, config.audience) : [];
  const current = views.find((view) => view.id === route.view);

  // An unknown or forbidden route goes to the first view this person has.
  useEffect(() => {
    if (phase.kind === "signedIn" && current === undefined && views[0] !== undefined) {
      window.location.replace(href(views[0].id));
    }
  }, [phase.kind, current, views[0]?.id]);

  let content;
  if (phase.kind === "starting") {
    content = <p aria-busy="true">{t("common.loading")}</p>;
  } else if (phase.kind === "signedOut") {
    content = <SignIn notice={phase.notice !== null ? t(phase.notice) : null} onDone={() => void signedIn()} />;
  } else if (views.length === 0) {
    content = (
      <>
        <h1>{t("app.noViews.title")}</h1>
        <p>{t(config.audience === "custodian" ? "app.noViews.custodian" : "app.noViews")}</p>
      </>
    );
  } else if (current !== undefined) {
    const View = COMPONENTS[current.id];
    content = (
      <View key={`${current.id}/${route.param}`} session={phase.session} param={route.param} config={config} />
    );
  } else {
    content = <p aria-busy="true">{t("common.loading")}</p>;
  }

  return (
    <>
      <SkipLink />
      <header class="app-header">
        <div class="bar">
          <p class="app-name">
            {t(config.audience === "custodian" ? "app.name.custodian" : "app.name")}
          </p>
          <div class="header-tools">
            {phase.kind === "signedIn" ? (
              <>
                <span class="who">
                  {t("app.signedInAs", { user: phase.session.username })}
                  {phase.session.groups.size > 0 ? ` (${[...phase.session.groups].sort().join(", ")})` : ""}
                </span>
                <button type="button" class="link-button" onClick={() => void signOut()}>
                  {t("app.signOut")}
                </button>
              </>
            ) : null}
            <LanguageToggle />
          </div>
        </div>
        {views.length > 0 ? (
          <nav aria-label={t("app.nav")} class="main-nav">
            <ul>
              {views.map((view) => (
                <li key={view.id}>
                  <a href={href(view.id)} aria-current={current?.id === view.id ? "page" : undefined}>
                    {t(view.title)}
                  </a>
                </li>
              ))}
            </ul>
          </nav>
        ) : null}
      </header>
      <main id="main" tabIndex={-1}>
        {content}
      </main>
      <StatusRegion />
      <footer class="app-footer">
        <p>{t("app.footer")}</p>
      </footer>
    </>
  );
}
