/** Start: read ./config.json, configure sign-in and the API client, render. */

import { render } from "preact";
import { App } from "./App";
import { createApi } from "./api/client";
import { createCustodianApi } from "./api/custodian";
import { configureAuth } from "./auth";
import { ConfigError, loadConfig } from "./config";
import { t } from "./i18n";
import "./styles.css";

function StartupError({ detail }: { detail: string }) {
  return (
    <main id="main">
      <h1>{t("app.startFailed")}</h1>
      <p>{t("app.startFailed.explain")}</p>
      <p>
        <code>{detail}</code>
      </p>
    </main>
  );
}

async function start(): Promise<void> {
  const root = document.getElementById("app");
  if (root === null) return;
  try {
    const config = await loadConfig();
    configureAuth(config);
    if (config.audience === "custodian") createCustodianApi(config.apiUrl);
    else createApi(config.apiUrl);
    root.textContent = "";
    render(<App config={config} />, root);
  } catch (error) {
    root.textContent = "";
    const detail = error instanceof ConfigError ? error.message : String(error);
    render(<StartupError detail={detail} />, root);
  }
}

void start();
