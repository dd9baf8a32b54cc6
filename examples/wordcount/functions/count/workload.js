// count: the words of a document (a file or a blob, streamed), kept beside the
// owner's data: in the facet of the label the function ends at, which carries the
// document's secrecy. Payload: {"document": PATH, "top": N}.
import { AlreadyExistsError, BlobEntry, File, Response } from "faasten";

/** The document's text, streamed from its blob or read from its file. */
async function text(syscall, path) {
  const handle = await syscall.resolve(path);
  try {
    if (handle instanceof File) return (await handle.read()).toString("utf8");
    if (!(handle instanceof BlobEntry)) throw new TypeError(`${path} is neither a file nor a blob`);
    const blob = await handle.get();
    const decoder = new TextDecoder();
    let result = "";
    for await (const chunk of blob) result += decoder.decode(chunk, { stream: true });
    return result + decoder.decode();
  } finally {
    await handle.close();
  }
}

export function count(text) {
  const words = new Map();
  for (const word of text.toLowerCase().match(/[\p{L}\p{N}']+/gu) ?? []) words.set(word, (words.get(word) ?? 0) + 1);
  return {
    words: [...words.values()].reduce((a, b) => a + b, 0),
    distinct: words.size,
    lines: text === "" ? 0 : text.split("\n").length - (text.endsWith("\n") ? 1 : 0),
    frequencies: [...words].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1)),
  };
}

export async function handle(syscall, { payload }) {
  const { document, top = 5 } = JSON.parse(payload);
  if (typeof document !== "string") return Response.json({ error: "give the document's path" }, 400);
  const counts = count(await text(syscall, document));
  // Reading the document raised the label to its secrecy. Vouch for the counts with
  // the app's privilege, then store them in "%", the facet of the label that is now
  // current: where the document's owner, and only they, may read them.
  await syscall.endorse();
  const label = await syscall.getCurrentLabel();
  const saved = `home:<${label}>:${document.slice(document.lastIndexOf(":") + 1)}.counts`;
  const stored = JSON.stringify({ document, ...counts, frequencies: Object.fromEntries(counts.frequencies) });
  try {
    await syscall.fsCreateFile(saved, { data: stored, label });
  } catch (error) {
    if (!(error instanceof AlreadyExistsError)) throw error;
    await syscall.fsWrite(saved, stored);
  }
  return {
    words: counts.words, distinct: counts.distinct, lines: counts.lines,
    top: counts.frequencies.slice(0, top).map(([word, n]) => `${word} ${n}`), saved, label,
  };
}
