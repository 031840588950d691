/**
 * The TextMate grammar (grammar/gm.tmLanguage.json) and the editor configuration
 * (grammar/language-configuration.json): the grammar loads in vscode-textmate with the real
 * Oniguruma engine, every `include` resolves, every regular expression compiles, and every
 * line of every example (examples/*.gm) and of the samples below tokenizes. Each token the real
 * lexer (src/dsl/tokens.ts) finds is then checked against the scopes TextMate gave its
 * characters: keywords are keywords, `⊥` is the independence operator, comments are comments,
 * and nothing on valid code is ever `invalid`.
 */
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import type { IToken as LexToken } from "chevrotain";
import { beforeAll, describe, expect, it } from "vitest";
import { parse } from "../../src/dsl/parse";
import { gmLexer, KEYWORDS } from "../../src/dsl/tokens";

// Both packages are UMD bundles: load them through `require` so their exports are seen.
const require = createRequire(import.meta.url);
const vsctm = require("vscode-textmate") as typeof import("vscode-textmate");
const oniguruma = require("vscode-oniguruma") as typeof import("vscode-oniguruma");

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
const GRAMMAR_PATH = join(ROOT, "grammar", "gm.tmLanguage.json");
const CONFIG_PATH = join(ROOT, "grammar", "language-configuration.json");
const EXAMPLES_DIR = join(ROOT, "examples");

/** Programs in the style of LANGUAGE.md; every one must parse without a diagnostic. */
const SAMPLES: Record<string, string> = {
  "coin.gm": `// 1. A coin: one parameter.
model Coin {
  x : Bernoulli
  p(x) = joint
  check params == 1
}

model Die { x : Categorical(6); p(x) = joint; check params == 5 }
`,
  "pixel.gm": `/* 2. One RGB pixel: three channels of 256 levels.
   256^3 - 1 = 16,777,215 parameters. */
model Pixel {
  const levels = 256
  pixel : Categorical(levels)[3]
  p(pixel) = joint
  check params == levels^3 - 1
}
`,
  "binary.gm": `model Joint {
  const n = 1_000
  x : Bernoulli[n]
  p(x) = independent
  check params == n
}

model Nade {
  x : Bernoulli[28, 28]
  order x snake
  p(x) = nade(hidden = 500)
  check params == 2 * 784 * 500 + 784 + 500
}
`,
  "markov.gm": `// 4. A Markov chain, derived from the chain rule.
model Markov {
  const n = 16
  x : Bernoulli[n]
  order x index
  p(x) = chain
  assume for i in 3..n: x[i] ⊥ x[1..i-2] | x[i-1]
  check x[5] _|_ x[1] | x[3]
  check x[5] not ⊥ x[1]
  check x[2] ⫫ x[4], x[5] | x[3]
  check params == 2*n − 1
  check params(x) <= 2 × n
}

model Markov1 {
  const n = 16
  x : Bernoulli[n]
  p(x) = markov(k = 1)   /* the same network */
  check params != 0
}
`,
  "neighbourhood.gm": `// 5. A causal neighbourhood with explicit tables on a small image.
model Neighbourhood {
  const h = 4
  const w = 4
  x : Bernoulli[h, w]
  order x raster
  p(x[1, 1]) = table
  for c in 2..w: p(x[1, c] | x[1, c-1]) = table
  for r in 2..h: p(x[r, 1] | x[r-1, 1]) = table
  for r in 2..h, c in 2..w:
    p(x[r, c] | x[r-1, c], x[r, c-1], x[r-1, c-1]) = table
  check x[3, 3] ⊥ x[1, *] | x[2, *], x[3, 1..2]
  check for r in 2..h: x[r, 2] ⊥ x[<(r, 1)] | x[r-1, 1..2], x[r, 1]
}

model Predecessors {
  x : Bernoulli[8]
  order x random(seed = 7)
  for i in 2..8: p(x[i] | x[<i]) = logistic
}
`,
  "pixelrnn.gm": `model PixelRNN {
  x : Categorical(256)[28, 28]
  order x raster
  p(x) = pixelrnn(kind = row_lstm, hidden = 64, layers = 2)
  train {
    data = mnist
    epochs = 1
  }
}
`,
  "vae.gm": `model VAE {
  latent z : Normal[16]
  x : Bernoulli[28, 28]
  p(x | z) = mlp(hidden = [512, 256])     // decoder
  q(z | x) = mlp(hidden = [256, 512])     // encoder
  fit elbo
  train {
    data    = mnist(binarize = 0.5)
    split   = [0.8, 0.2]
    epochs  = 10
    batch   = 100
    lr      = 1e-3
    seed    = 1
  }
}

model IWAE {
  latent z : Normal[8]
  x : Bernoulli[784]
  p(z) = normal
  p(x | z) = mlp(hidden = [256])
  q(z | x) = mlp(hidden = [256])
  fit iwae(k = 5)
  train { data = idx("data/train-images-idx3-ubyte.gz", labels = "data/train-labels\\tidx1.gz"); epochs = 2 }
}
`,
  "aae.gm": `model AAE {
  latent z : Normal[2]
  x : Real(0, 1)[28, 28]
  p(z) = mixture(k = 10, radius = 4)
  p(x | z) = mlp(hidden = [512, 512])
  q(z | x) = mlp(hidden = [512, 512], deterministic)
  fit reconstruction + adversarial(on = z, critic = mlp(hidden = [512]))
  train { data = fashion_mnist, epochs = 5, }
}
`,
  "gan.gm": `model GAN {
  latent z : Normal[100]
  x : Real(-1, 1)[28, 28]
  p(z) = uniform(-1, 1)
  x = generator(z) by dcgan(base = 32)
  fit adversarial(critic = dcgan(base = 32))
  train {
    data = images("faces/", size = [28, 28])
    batch = 64
  }
}

model Fvsbn { x : Bernoulli[10]; p(x) = logistic; fit likelihood; check params == 10 * 11 / 2 }
`,
};

type Vsctm = typeof import("vscode-textmate");
let grammar: import("vscode-textmate").IGrammar;

function onigLib(): Promise<import("vscode-textmate").IOnigLib> {
  return Promise.resolve({
    createOnigScanner: (sources: string[]) => new oniguruma.OnigScanner(sources),
    createOnigString: (s: string) => new oniguruma.OnigString(s),
  });
}

let onigLoaded: Promise<void> | undefined;
function loadOniguruma(): Promise<void> {
  if (!onigLoaded) {
    const wasm = readFileSync(require.resolve("vscode-oniguruma/release/onig.wasm"));
    onigLoaded = oniguruma.loadWASM(wasm.buffer.slice(wasm.byteOffset, wasm.byteOffset + wasm.byteLength));
  }
  return onigLoaded;
}

async function loadGrammar(tm: Vsctm): Promise<import("vscode-textmate").IGrammar> {
  await loadOniguruma();
  const registry = new tm.Registry({
    onigLib: onigLib(),
    loadGrammar: async (scopeName) =>
      scopeName === "source.gm" ? tm.parseRawGrammar(readFileSync(GRAMMAR_PATH, "utf8"), GRAMMAR_PATH) : null,
  });
  const g = await registry.loadGrammar("source.gm");
  if (!g) throw new Error("source.gm did not load");
  return g;
}

/** The scopes of every character of `text`, from TextMate, line by line with the rule stack carried over. */
function scopesOf(text: string): { scopes: string[][]; failures: string[] } {
  const scopes: string[][] = new Array(text.length);
  const failures: string[] = [];
  let stack = vsctm.INITIAL;
  let offset = 0;
  const lines = text.split("\n");
  lines.forEach((raw, i) => {
    const line = raw.endsWith("\r") ? raw.slice(0, -1) : raw;
    const r = grammar.tokenizeLine(line, stack, 5000);
    if (r.stoppedEarly) failures.push(`line ${i + 1}: tokenization stopped early`);
    let covered = 0;
    for (const t of r.tokens) {
      if (t.startIndex !== covered) failures.push(`line ${i + 1}: tokens skip from ${covered} to ${t.startIndex}`);
      const end = Math.min(t.endIndex, line.length);
      for (let c = t.startIndex; c < end; c++) scopes[offset + c] = t.scopes;
      covered = t.endIndex;
    }
    if (covered < line.length) failures.push(`line ${i + 1}: characters ${covered}..${line.length} have no token`);
    stack = r.ruleStack;
    offset += raw.length + 1;
  });
  return { scopes, failures };
}

const has = (scopes: string[] | undefined, prefix: string) =>
  (scopes ?? []).some((s) => s === prefix || s.startsWith(`${prefix}.`));
const show = (scopes: string[] | undefined) => (scopes ?? ["<none>"]).join(" ");

/** What TextMate must say about a token the real lexer found, or undefined when anything goes. */
function expectedScope(t: LexToken, next: LexToken | undefined, prev: LexToken | undefined): string | undefined {
  const name = t.tokenType.name;
  if (KEYWORDS.includes(t.image) && name !== "Identifier") return "keyword";
  switch (name) {
    case "LineComment":
    case "BlockComment":
    case "UnterminatedComment":
      return "comment";
    case "StringLiteral":
      return "string.quoted.double";
    case "NumberLiteral":
      return "constant.numeric";
    case "Indep":
      return "keyword.operator.independence";
    case "EqEq":
    case "NotEq":
    case "LtEq":
    case "GtEq":
    case "Eq":
    case "Plus":
    case "Minus":
    case "Slash":
    case "Caret":
    case "Bar":
    case "DotDot":
      return "keyword.operator";
    case "Lt":
    case "Gt":
    case "Star":
      return "keyword.operator"; // comparison, predecessor `x[<i]`, product or whole axis `x[*]`
    case "LParen":
    case "RParen":
    case "LBracket":
    case "RBracket":
    case "LBrace":
    case "RBrace":
    case "Comma":
    case "Colon":
    case "Semicolon":
      return "punctuation";
    case "Identifier":
      if (["Bernoulli", "Categorical", "Normal", "Real"].includes(t.image)) return "storage.type";
      if (prev?.tokenType.name === "Model") return "entity.name.type";
      // `p(` / `q(` first on its line or after `{`, `;`, `}` or `for …:` heads a factorization.
      if ((t.image === "p" || t.image === "q") && next?.tokenType.name === "LParen") {
        if (
          !prev ||
          prev.endLine! < t.startLine! ||
          ["LBrace", "RBrace", "Semicolon", "Colon"].includes(prev.tokenType.name)
        )
          return "entity.name.function";
      }
      return undefined;
    default:
      return undefined;
  }
}

/** Checks one program; returns the problems found. */
function check(file: string, text: string): string[] {
  const problems: string[] = [];
  const { scopes, failures } = scopesOf(text);
  for (const f of failures) problems.push(`${file} ${f}`);
  const lexed = gmLexer.tokenize(text);
  const where = (offset: number) => {
    const before = text.slice(0, offset);
    const line = before.split("\n").length;
    return `${file}:${line}:${offset - before.lastIndexOf("\n")}`;
  };
  for (let c = 0; c < text.length; c++) {
    if ((scopes[c] ?? []).some((s) => s.startsWith("invalid")))
      problems.push(`${where(c)}: \`${text[c]}\` is ${show(scopes[c])}`);
  }
  const tokens = lexed.tokens;
  const all = [...tokens, ...((lexed.groups.comments ?? []) as LexToken[])];
  for (const t of all) {
    const i = tokens.indexOf(t);
    const want = expectedScope(t, i >= 0 ? tokens[i + 1] : undefined, i > 0 ? tokens[i - 1] : undefined);
    const name = t.tokenType.name;
    for (let c = t.startOffset; c <= t.endOffset!; c++) {
      if (text[c] === "\n" || text[c] === "\r") continue;
      const s = scopes[c];
      if (want && !has(s, want)) {
        problems.push(`${where(c)}: ${name} \`${t.image}\` should be ${want}, is ${show(s)}`);
        break;
      }
      // Outside comments and strings nothing may look like a comment or a string, and only keywords are keywords.
      const comment = name === "LineComment" || name === "BlockComment" || name === "UnterminatedComment";
      const string = name === "StringLiteral" || name === "UnterminatedString";
      if (!comment && (has(s, "comment") || (!string && has(s, "string")))) {
        problems.push(`${where(c)}: ${name} \`${t.image}\` is ${show(s)}`);
        break;
      }
      if (name === "Identifier" && (has(s, "keyword") || has(s, "constant.numeric"))) {
        problems.push(`${where(c)}: the name \`${t.image}\` is ${show(s)}`);
        break;
      }
    }
  }
  return problems;
}

function exampleFiles(): string[] {
  if (!existsSync(EXAMPLES_DIR)) return [];
  return readdirSync(EXAMPLES_DIR, { recursive: true, encoding: "utf8" })
    .filter((f) => f.endsWith(".gm"))
    .sort();
}

beforeAll(async () => {
  grammar = await loadGrammar(vsctm);
});

describe("grammar/gm.tmLanguage.json", () => {
  const raw = JSON.parse(readFileSync(GRAMMAR_PATH, "utf8"));

  it("is a TextMate grammar for .gm files", () => {
    expect(raw.scopeName).toBe("source.gm");
    expect(raw.fileTypes).toEqual(["gm"]);
    expect(Array.isArray(raw.patterns)).toBe(true);
  });

  it("resolves every include, compiles every regular expression, and names every scope *.gm", async () => {
    await loadOniguruma();
    const problems: string[] = [];
    const used = new Set<string>();
    const walk = (node: unknown, path: string) => {
      if (Array.isArray(node)) return node.forEach((n, i) => walk(n, `${path}[${i}]`));
      if (!node || typeof node !== "object") return;
      for (const [key, value] of Object.entries(node)) {
        const here = `${path}.${key}`;
        if (key === "include") {
          const inc = value as string;
          if (inc.startsWith("#")) {
            used.add(inc.slice(1));
            if (!raw.repository?.[inc.slice(1)]) problems.push(`${here}: ${inc} is not in the repository`);
          } else if (inc !== "$self" && inc !== "$base") problems.push(`${here}: ${inc} needs another grammar`);
        } else if (
          (key === "match" || key === "begin" || key === "end" || key === "while") &&
          typeof value === "string"
        ) {
          try {
            new oniguruma.OnigScanner([value]).dispose();
          } catch (e) {
            problems.push(`${here}: ${(e as Error).message}`);
          }
        } else if ((key === "name" || key === "contentName") && typeof value === "string" && path !== "") {
          for (const scope of value.split(/\s+/))
            if (!scope.endsWith(".gm")) problems.push(`${here}: ${scope} should end in .gm`);
          if (value.includes("invalid")) problems.push(`${here}: ${value}`);
        } else walk(value, here);
      }
    };
    walk(raw.patterns, "patterns");
    walk(raw.repository, "repository");
    const unused = Object.keys(raw.repository).filter((k) => !used.has(k));
    expect(problems).toEqual([]);
    expect(unused, "repository entries nothing includes").toEqual([]);
  });

  it("tokenizes the embedded samples (which the parser accepts) with the right scopes", () => {
    for (const [file, text] of Object.entries(SAMPLES)) {
      expect(
        parse(text, file).diagnostics.map(
          (d) => `${file}:${d.span.start.line}:${d.span.start.column} ${d.code} ${d.message}`,
        ),
      ).toEqual([]);
      expect(check(file, text)).toEqual([]);
    }
  });

  it("tokenizes every examples/*.gm file with the right scopes", () => {
    const files = exampleFiles();
    const problems: string[] = [];
    for (const f of files) problems.push(...check(`examples/${f}`, readFileSync(join(EXAMPLES_DIR, f), "utf8")));
    expect(problems).toEqual([]);
  });

  it("gives the scopes an editor needs", () => {
    /** The scopes of `word` where it first occurs in `context`. */
    const at = (text: string, context: string, word = context) => {
      const { scopes } = scopesOf(text);
      const i = text.indexOf(context);
      expect(i, `${context} in ${text}`).toBeGreaterThanOrEqual(0);
      return show(scopes[i + context.indexOf(word)]);
    };
    const text = SAMPLES["vae.gm"];
    expect(at(text, "model")).toContain("keyword.");
    expect(at(text, "VAE")).toContain("entity.name.type.model.gm");
    expect(at(text, "latent")).toContain("keyword.");
    expect(at(text, "z :")).toContain("variable.other.definition.gm");
    expect(at(text, "Normal")).toContain("storage.type.gm");
    expect(at(text, "Bernoulli")).toContain("storage.type.gm");
    expect(at(text, "p(x")).toContain("entity.name.function.gm");
    expect(at(text, "q(z")).toContain("entity.name.function.gm");
    expect(at(text, "mlp")).toContain("support.function.gm");
    expect(at(text, "hidden")).toContain("variable.parameter.gm");
    expect(at(text, "elbo")).toContain("support.function.gm");
    expect(at(text, "mnist")).toContain("support.function.gm");
    expect(at(text, "data ")).toContain("variable.other.property.gm");
    expect(at(text, "1e-3")).toContain("constant.numeric.gm");
    expect(at(text, "// decoder")).toContain("comment.line.double-slash.gm");
    expect(at(text, '"data/')).toContain("string.quoted.double.gm");
    expect(at(text, "\\t")).toContain("constant.character.escape.gm");
    const markov = SAMPLES["markov.gm"];
    expect(at(markov, "⊥")).toContain("keyword.operator.independence.gm");
    expect(at(markov, "_|_")).toContain("keyword.operator.independence.gm");
    expect(at(markov, "⫫")).toContain("keyword.operator.independence.gm");
    expect(at(markov, "not")).toContain("keyword.");
    expect(at(markov, "= chain", "chain")).toContain("support.function.gm");
    expect(at(markov, "x index", "index")).toContain("support.function.gm");
    expect(at(markov, "..")).toContain("keyword.operator.range.gm");
    expect(at(markov, "/* the")).toContain("comment.block.gm");
    const gan = SAMPLES["gan.gm"];
    expect(at(gan, "x = generator")).toContain("variable.other.definition.gm");
    expect(at(gan, "generator")).toContain("keyword.");
    expect(at(gan, "by")).toContain("keyword.");
    expect(at(gan, "dcgan")).toContain("support.function.gm");
    const nb = SAMPLES["neighbourhood.gm"];
    expect(at(nb, "<(r")).toContain("keyword.operator.predecessor.gm");
    expect(at(nb, "*]")).toContain("keyword.operator.wildcard.gm");
    expect(at(nb, "for")).toContain("keyword.control.gm");
    // Identifiers that contain a keyword or a number stay names.
    const tricky =
      "model model_1 { orders : Bernoulli[n2]; x1 : Normal; p(orders) = formula(notes = in_x) q(x1 | orders[<(1)]) = mlp }\n";
    expect(parse(tricky).diagnostics).toEqual([]);
    expect(check("tricky.gm", tricky)).toEqual([]);
    expect(at(tricky, "model_1")).toContain("entity.name.type.model.gm");
    expect(at(tricky, "n2")).not.toContain("constant.numeric");
    expect(at(tricky, "formula")).toContain("support.function.gm");
    expect(at(tricky, "q(")).toContain("entity.name.function.gm");
  });

  it("keeps a block comment open across lines and a string from running past its line", () => {
    const text =
      'model M {\n  /* one\n  check x ⊥ y\n  */ x : Bernoulli\n  train { data = "open\n  epochs = 1 }\n}\n/* never closed\nmodel N {}\n';
    const { scopes } = scopesOf(text);
    expect(show(scopes[text.indexOf("check")])).toContain("comment.block.gm");
    expect(show(scopes[text.indexOf("Bernoulli")])).toContain("storage.type.gm");
    expect(show(scopes[text.indexOf("epochs")])).not.toContain("string");
    expect(show(scopes[text.indexOf("model N")])).toContain("comment.block.gm");
    // Broken code still tokenizes and agrees with the lexer where the lexer has a token.
    expect(check("broken.gm", text)).toEqual([]);
  });
});

describe("grammar/language-configuration.json", () => {
  const config = JSON.parse(readFileSync(CONFIG_PATH, "utf8"));

  it("declares the comment markers the lexer uses", () => {
    expect(config.comments.lineComment).toBe("//");
    expect(config.comments.blockComment).toEqual(["/*", "*/"]);
    const lexed = gmLexer.tokenize(`${config.comments.lineComment} x\n${config.comments.blockComment.join(" y ")}`);
    expect(lexed.groups.comments.map((t: LexToken) => t.tokenType.name)).toEqual(["LineComment", "BlockComment"]);
  });

  it("pairs the brackets the language has", () => {
    const pairs = (config.brackets as [string, string][]).map(([open, close]) =>
      gmLexer
        .tokenize(open + close)
        .tokens.map((t) => t.tokenType.name)
        .join(" "),
    );
    expect(pairs.sort()).toEqual(["LBrace RBrace", "LBracket RBracket", "LParen RParen"]);
    for (const key of ["increaseIndentPattern", "decreaseIndentPattern"])
      expect(() => new RegExp(config.indentationRules[key])).not.toThrow();
    expect(new RegExp(`^(?:${config.wordPattern})$`).test("fashion_mnist")).toBe(true);
    expect(new RegExp(`^(?:${config.wordPattern})$`).test("1_000")).toBe(true);
  });
});
