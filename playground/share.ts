/**
 * The page's URL carries the edited source, so a teacher can share a link: `#code=` followed by
 * the UTF-8 text compressed with deflate-raw (the browser's CompressionStream) in base64url, or
 * `#example=NAME` for an unedited example. Decoding is the reverse; a broken link yields null.
 */

async function pipe(
  bytes: Uint8Array<ArrayBuffer>,
  stream: CompressionStream | DecompressionStream,
): Promise<Uint8Array> {
  const out = new Response(new Blob([bytes]).stream().pipeThrough(stream));
  return new Uint8Array(await out.arrayBuffer());
}

function toBase64Url(bytes: Uint8Array): string {
  let s = "";
  for (const b of bytes) s += String.fromCharCode(b);
  return btoa(s).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

function fromBase64Url(s: string): Uint8Array<ArrayBuffer> {
  const bin = atob(s.replace(/-/g, "+").replace(/_/g, "/"));
  return Uint8Array.from(bin, (c) => c.charCodeAt(0));
}

/** The hash fragment (with `#`) for `source`. */
export async function encodeSource(source: string): Promise<string> {
  return `#code=${toBase64Url(await pipe(new TextEncoder().encode(source), new CompressionStream("deflate-raw")))}`;
}

/** What a hash asks for: an example by name, a source text, or nothing (null when unreadable). */
export async function decodeHash(hash: string): Promise<{ example?: string; source?: string } | null> {
  const params = new URLSearchParams(hash.replace(/^#/, ""));
  const example = params.get("example");
  if (example) return { example };
  const code = params.get("code");
  if (!code) return {};
  try {
    return {
      source: new TextDecoder("utf-8", { fatal: true }).decode(
        await pipe(fromBase64Url(code), new DecompressionStream("deflate-raw")),
      ),
    };
  } catch {
    return null;
  }
}
