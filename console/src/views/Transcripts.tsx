/** Mentors: read a de-identified transcript for one of P4's purposes, asked first; the read is on the
 * audit log with its purpose and note. The transcript lives in this view's state only. */

import { useState } from "preact/hooks";
import { api, type Schemas } from "../api/client";
import { ApiProblem, asProblem, unwrap } from "../api/errors";
import { Empty } from "../components/Bits";
import { ErrorMessage } from "../components/ErrorMessage";
import { RadioGroup, TextArea, TextField } from "../components/Fields";
import { Tagged } from "../components/Tagged";
import { ViewHeading } from "../components/ViewHeading";
import { dateTime, label } from "../format";
import { t } from "../i18n";
import { announce } from "../status";
import { CONTACT_ID_PATTERN, CONTACT_ID_RE, normaliseId, type ViewProps } from "./types";

type Transcript = Schemas["TranscriptOut"];
type Purpose = "training" | "emotional_processing" | "quality_improvement";
const PURPOSES: readonly Purpose[] = ["training", "emotional_processing", "quality_improvement"];
const NOTE_MAX = 200;

export function Transcripts({ param }: ViewProps) {
  const [contactId, setContactId] = useState(param);
  const [purpose, setPurpose] = useState<Purpose | "">("");
  const [note, setNote] = useState("");
  const [transcript, setTranscript] = useState<Transcript | null>(null);
  const [problem, setProblem] = useState<ApiProblem | null>(null);
  const [invalid, setInvalid] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  const read = async (event: Event): Promise<void> => {
    event.preventDefault();
    const id = normaliseId(contactId);
    if (!CONTACT_ID_RE.test(id)) {
      setInvalid(t("field.contactId.invalid"));
      return;
    }
    if (purpose === "") {
      setInvalid(t("transcripts.purpose.missing"));
      return;
    }
    setInvalid(null);
    setBusy(true);
    setProblem(null);
    setTranscript(null);
    try {
      const trimmed = note.trim();
      const result = await unwrap(
        api().GET("/contacts/{id}/transcript", {
          params: { path: { id }, query: { purpose, ...(trimmed !== "" ? { note: trimmed } : {}) } },
        }),
      );
      setTranscript(result);
      announce(t("transcripts.loaded", { n: result.parts.length }));
    } catch (error) {
      setProblem(asProblem(error));
    } finally {
      setBusy(false);
    }
  };

  return (
    <>
      <ViewHeading title={t("nav.transcripts")} />
      <div class="message info">
        <p>{t("transcripts.explain")}</p>
      </div>
      <form class="form" onSubmit={(event) => void read(event)}>
        <TextField
          id="transcript-contact"
          label={t("field.contactId")}
          hint={t("transcripts.contact.hint")}
          value={contactId}
          onValue={setContactId}
          pattern={CONTACT_ID_PATTERN}
          maxLength={40}
          spellcheck={false}
          required
        />
        <RadioGroup
          name="transcript-purpose"
          legend={t("transcripts.purpose")}
          hint={t("transcripts.purpose.hint")}
          value={purpose}
          onValue={(value) => setPurpose(PURPOSES.find((item) => item === value) ?? "")}
          options={PURPOSES.map((item) => ({ value: item, label: label("purpose", item) }))}
          required
        />
        <TextArea
          id="transcript-note"
          label={t("transcripts.note")}
          hint={t("transcripts.note.hint")}
          value={note}
          onValue={setNote}
          maxLength={NOTE_MAX}
          rows={2}
          counter={(length) => t("common.charactersLeft", { n: NOTE_MAX - length })}
        />
        {invalid !== null ? (
          <p class="message error" role="alert">
            {invalid}
          </p>
        ) : null}
        <button type="submit" disabled={busy}>
          {t("transcripts.read")}
        </button>
      </form>
      <ErrorMessage problem={problem} />
      {problem?.status === 404 ? <p class="hint">{t("transcripts.notFound")}</p> : null}
      {transcript !== null ? (
        <section aria-labelledby="transcript-title">
          <h2 id="transcript-title">
            {t("transcripts.of", { channel: label("channel", transcript.channel) })}
          </h2>
          <p class="hint">
            <code class="id">{transcript.contact_id}</code>
          </p>
          {transcript.parts.length === 0 ? (
            <Empty>{t("transcripts.empty")}</Empty>
          ) : (
            <ol class="transcript">
              {transcript.parts.map((part) => (
                <li key={part.position} class={`part ${part.sender}`}>
                  <p class="part-meta">
                    <strong>{label("sender", part.sender)}</strong> · {dateTime(part.sent_at)}
                  </p>
                  <p class="part-text">
                    <Tagged text={part.text} />
                  </p>
                </li>
              ))}
            </ol>
          )}
          <button type="button" class="secondary" onClick={() => setTranscript(null)}>
            {t("transcripts.close")}
          </button>
        </section>
      ) : null}
    </>
  );
}
