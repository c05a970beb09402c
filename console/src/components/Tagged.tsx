/** Scrubbed text with its tags ([PERSOON-1], [TELEFOONNUMMER], ...) marked, so a reader sees what the
 * scrubber replaced. */

const TAG = /(\[[A-Z][A-Z_]*(?:-[0-9]+)?\])/;

export function Tagged({ text }: { text: string }) {
  const parts = text.split(TAG);
  return (
    <span class="tagged">
      {parts.map((part, index) =>
        index % 2 === 1 ? (
          <mark class="tag" key={index}>
            {part}
          </mark>
        ) : (
          part
        ),
      )}
    </span>
  );
}
