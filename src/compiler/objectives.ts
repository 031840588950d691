/**
 * Encoders, objectives and the train block (LANGUAGE.md §7, §8).
 */
import type * as A from "../dsl/ast";
import { mlpParams, networkParams } from "./count";
import { bindArgs, FACTOR_FAMILIES, lookup, NETWORKS, OBJECTIVES, TRAIN_ENTRIES, type Written } from "./families";
import {
  domainName,
  outcomes,
  type ModelIR,
  type NetworkSpec,
  type ObjectiveIR,
  type TrainConfigIR,
  type VariableIR,
} from "./ir";
import { printFamily, printTrainEntry } from "../dsl/printer";
import { suggest } from "./suggest";
import { dataSourceFromValue } from "./datasource";
import { evalReal, evalSmallInt } from "./values";
import { networkSpec } from "./factors";
import { ModelContext } from "./context";

export function bindPosterior(ctx: ModelContext, s: A.FactorStmt): void {
  if (s.quantifiers.length) {
    ctx.diags.error(
      "E0418",
      "an encoder `q(z | x) = …` is stated once for the whole latent variable, not per element",
      s.span,
      {
        hint: `drop the \`for\` and the indices: \`q(${names(s.targets)} | ${names(s.given) || observedNames(ctx)}) = ${printFamily(s.family)}\``,
      },
    );
    return;
  }
  const targets = ctx.refsToElements(s.targets, ctx.env(), "claim");
  const given = ctx.refsToElements(s.given, ctx.env(), "claim");
  if (!targets || !given) return;
  const t = Int32Array.from(targets.flatMap((l) => Array.from(l)));
  const g = Int32Array.from(given.flatMap((l) => Array.from(l)));
  const observedTarget = Array.from(t).find((e) => !ctx.varOf(e).latent);
  if (observedTarget !== undefined) {
    const v = ctx.varOf(observedTarget);
    const latents = ctx.vars.filter((x) => x.latent).map((x) => x.name);
    const decl = ctx.varDecls.get(v.name);
    ctx.diags.error("E0418", `\`q(…)\` is the posterior of latent variables; \`${v.name}\` is observed`, s.span, {
      hint: latents.length
        ? `put the latent variables left of \`|\` and the data right of it: \`q(${latents.join(", ")} | ${observedNames(ctx)}) = ${printFamily(s.family)}\``
        : `if \`${v.name}\` is the code q infers, declare it latent: \`latent ${v.name} : ${decl && /^(Normal|Real)\b/.test(ctx.src(decl.type.span)) ? ctx.src(decl.type.span) : "Normal"}${v.shape.length ? `[${v.shapeText.join(", ")}]` : ""}\``,
    });
    return;
  }
  if (g.length === 0) {
    ctx.diags.error("E0418", "an encoder conditions on the data: write `q(z | x) = mlp(hidden = [...])`", s.span, {
      hint: `write \`q(${names(s.targets)} | ${observedNames(ctx)}) = ${printFamily(s.family)}\``,
    });
    return;
  }
  if (s.family.name.name !== "mlp") {
    ctx.diags.error(
      "E0418",
      `an encoder is an \`mlp(hidden = [...])\`, found \`${s.family.name.name}\``,
      s.family.span,
      { hint: `write \`q(${names(s.targets)} | ${names(s.given)}) = mlp(hidden = [256])\`` },
    );
    return;
  }
  const args = bindArgs(s.family, FACTOR_FAMILIES.mlp, ctx.env(), ctx.diags);
  if (!args) return;
  if (ctx.networks.some((nw) => nw.role === "posterior")) {
    const all = ctx.vars.filter((x) => x.latent).map((x) => x.name);
    ctx.diags.error("E0418", "the model already has an encoder `q(…)`", s.span, {
      hint: `one encoder infers every latent variable: delete this \`q(…)\`, or list them all in the first, \`q(${all.join(", ")} | ${observedNames(ctx)}) = …\``,
    });
    return;
  }
  const out = args.deterministic ? t.length : 2 * t.length;
  const network: NetworkSpec = {
    kind: "mlp",
    sizes: [g.length, ...(args.hidden as number[]), out],
    output: args.deterministic ? "code" : "gaussian",
  };
  ctx.networks.push({
    role: "posterior",
    inputs: g,
    outputs: t,
    network,
    params: mlpParams(network.sizes),
    source: ctx.src(s.span),
    span: s.span,
  });
}

/** The variable names of references, as a whole-variable list: `z, w`. */
function names(refs: readonly A.Ref[]): string {
  return [...new Set(refs.map((r) => r.name.name))].join(", ");
}

/** The observed variables, for hints (`x` when there are none yet). */
function observedNames(ctx: ModelContext): string {
  const obs = ctx.vars.filter((v) => !v.latent).map((v) => v.name);
  return obs.length ? obs.join(", ") : "x";
}

/** The hint of `elbo` on a model without latent variables: declare the encoder's code latent, or the VAE to write. */
function vaeHint(ctx: ModelContext): string {
  const q = ctx.m.body.find((st): st is A.FactorStmt => st.kind === "Factor" && st.dist === "q");
  if (q)
    return `\`elbo\` trains the encoder \`${ctx.src(q.span)}\` of latent variables: declare \`${names(q.targets)}\` latent (\`latent ${q.targets[0].name.name} : Normal[…]\`)`;
  let z = "z";
  for (let i = 2; ctx.varByName.has(z); i++) z = `z${i}`;
  const x = observedNames(ctx);
  return `this model has no latent variable: fit it by \`fit likelihood\` (or leave \`fit\` out), or make it a VAE: \`latent ${z} : Normal[16]\`, \`p(${x} | ${z}) = mlp(hidden = [256])\`, \`q(${z} | ${x}) = mlp(hidden = [256])\``;
}

export function bindObjectives(ctx: ModelContext, kind: ModelIR["kind"]): ObjectiveIR[] {
  const fits = ctx.m.body.filter((s): s is A.FitStmt => s.kind === "Fit");
  for (const extra of fits.slice(1))
    ctx.diags.error("E0607", "a model has one `fit` statement; combine objectives with `+`", extra.span, {
      related: [{ message: "the first `fit`", span: fits[0].span }],
      hint: `keep one \`fit\` (${fits.map((f) => `\`fit ${f.objectives.map(printFamily).join(" + ")}\``).join(" or ")}); objectives trained together are summed on one line with \`+\``,
    });
  const encoder = ctx.networks.find((nw) => nw.role === "posterior");
  const latents = ctx.vars.filter((v) => v.latent);
  const nonNormal = latents.filter((v) => {
    const f = ctx.drafts[ctx.factorOf[v.offset]];
    return f.family !== "normal";
  });
  if (fits.length === 0) {
    if (kind === "explicit") return [{ name: "likelihood", args: {}, span: ctx.m.name.span }];
    if (kind === "implicit") {
      // Point at the statement that makes the model implicit, not at its name.
      const generator = ctx.m.body.find((st) => st.kind === "Implicit");
      ctx.diags.error(
        "E0605",
        "an implicit model `x = generator(z) by …` is trained against a critic",
        generator?.span ?? ctx.m.name.span,
        { hint: "add `fit adversarial(critic = mlp(hidden = [512, 256]))`" },
      );
      return [];
    }
    if (encoder && nonNormal.length === 0) return [{ name: "elbo", args: {}, span: ctx.m.name.span }];
    if (ctx.encoderRejected) return [];
    // A non-normal prior has no closed-form KL: point to the AAE, not to `elbo` (which E0603 refuses).
    const hint = nonNormal.length
      ? `add \`q(${nonNormal[0].name} | x) = mlp(hidden = [...], deterministic)\` and \`fit reconstruction + adversarial(on = ${nonNormal[0].name}, critic = mlp(hidden = [256, 256]))\``
      : "add `q(z | x) = mlp(hidden = [...])` and `fit elbo`";
    ctx.diags.error(
      "E0604",
      "a latent-variable model needs an encoder and an objective",
      latents[0]?.span ?? ctx.m.name.span,
      { hint },
    );
    return [];
  }
  const fit = fits[0];
  const out: ObjectiveIR[] = [];
  const beforeObjectives = ctx.diags.items.length;
  for (const o of fit.objectives) {
    const sch = lookup(o, OBJECTIVES, "objective", ctx.diags);
    if (!sch) continue;
    const args = bindArgs(o, sch, ctx.env(), ctx.diags);
    if (!args) continue;
    const name = sch.name as ObjectiveIR["name"];
    switch (name) {
      case "likelihood":
        if (kind !== "explicit")
          ctx.diags.error(
            "E0606",
            `\`likelihood\` needs an explicit density; this model is ${kind === "latent" ? `a latent-variable model: use \`${nonNormal.length ? "reconstruction + adversarial(…)" : "elbo"}\`` : "implicit: use `adversarial(…)`"}`,
            o.span,
            kind === "latent"
              ? {
                  hint: "only discrete latent variables (`latent c : Categorical(k)`, no encoder) are summed out exactly",
                }
              : { hint: "an implicit model has no density: `fit adversarial(critic = mlp(hidden = [512, 256]))`" },
          );
        break;
      case "elbo":
      case "iwae":
        if (kind !== "latent") {
          ctx.diags.error(
            "E0601",
            `\`${name}\` needs latent variables with an encoder \`q(z | x)\``,
            o.span,
            kind === "implicit"
              ? {
                  hint: "an implicit model `x = generator(z) by …` has no density to bound: train it against a critic, `fit adversarial(critic = mlp(hidden = [512, 256]))`",
                }
              : {
                  hint: latents.length
                    ? "its latent variables are discrete and summed out exactly: fit it by `fit likelihood` (or leave `fit` out)"
                    : vaeHint(ctx),
                },
          );
          break;
        }
        if (!encoder) {
          if (!ctx.encoderRejected)
            ctx.diags.error("E0602", `\`${name}\` needs an encoder`, o.span, {
              hint: "add `q(z | x) = mlp(hidden = [...])`",
            });
        } else if (encoder.network.kind === "mlp" && encoder.network.output === "code")
          ctx.diags.error("E0608", `\`${name}\` needs a Gaussian encoder; this one is \`deterministic\``, o.span, {
            hint: "drop `deterministic`, or fit `reconstruction + adversarial(on = z, critic = …)` (an AAE)",
          });
        for (const v of nonNormal) {
          const f = ctx.drafts[ctx.factorOf[v.offset]];
          ctx.diags.error(
            "E0603",
            `\`${name}\` needs the KL divergence to the prior in closed form, which needs \`p(${v.name}) = normal\`; \`${v.name}\` has prior \`${f.source.replace(/^[^=]*=\s*/, "")}\``,
            o.span,
            {
              hint: `match q to the prior adversarially instead (an AAE): \`fit reconstruction + adversarial(on = ${v.name}, critic = mlp(hidden = [256, 256]))\``,
              related: [{ message: "the prior", span: f.span }],
            },
          );
        }
        break;
      case "reconstruction":
        if (!encoder && !ctx.encoderRejected)
          ctx.diags.error("E0602", "`reconstruction` needs an encoder `q(z | x)` and a decoder `p(x | z)`", o.span, {
            hint: `add an encoder: \`q(${latents.map((v) => v.name).join(", ") || "z"} | ${observedNames(ctx)}) = mlp(hidden = [256], deterministic)\``,
          });
        break;
      case "adversarial": {
        const onArg = args.on as { name: string; span: A.Span } | undefined;
        let on: VariableIR | undefined;
        if (onArg) {
          on = ctx.varByName.get(onArg.name);
          if (!on) {
            const guess = suggest(onArg.name, ctx.varByName.keys());
            ctx.diags.error("E0201", `unknown random variable \`${onArg.name}\``, onArg.span, {
              hint: guess
                ? `did you mean \`${guess}\`?`
                : `\`on\` names a declared variable: ${ctx.vars.map((v) => `\`${v.name}\``).join(", ")}`,
            });
            break;
          }
        } else on = defaultCriticTarget(ctx, o);
        if (!on) break;
        if (kind === "explicit")
          ctx.diags.error(
            "E0601",
            "`adversarial` trains an implicit generator or matches an encoder to a prior; this model has neither",
            o.span,
            {
              hint: `this model has a density: fit it by \`fit likelihood\` (or leave \`fit\` out); for a GAN, write \`${on.name} = generator(z) by mlp(hidden = [256])\` with \`latent z : Normal[16]\``,
            },
          );
        if (on.latent && !encoder && !ctx.encoderRejected)
          ctx.diags.error(
            "E0602",
            `\`adversarial(on = ${on.name}, …)\` matches the encoder's codes to the prior; add \`q(${on.name} | x) = mlp(hidden = [...], deterministic)\``,
            o.span,
            {
              hint: `an adversarial autoencoder: \`q(${on.name} | ${observedNames(ctx)}) = mlp(hidden = [256], deterministic)\` with \`fit reconstruction + adversarial(on = ${on.name}, critic = mlp(hidden = [256, 256]))\``,
            },
          );
        const critic = args.critic as Written;
        const csch = lookup(critic, NETWORKS, "network", ctx.diags);
        if (!csch) break;
        const cargs = bindArgs(critic, csch, ctx.env(), ctx.diags);
        if (!cargs) break;
        const spec = networkSpec(ctx, csch.name, cargs, on.size, on, "critic", critic.span);
        if (!spec) break;
        const inputs = Int32Array.from({ length: on.size }, (_, i) => on!.offset + i);
        ctx.networks.push({
          role: "critic",
          inputs,
          outputs: new Int32Array(0),
          network: spec,
          params: networkParams(spec),
          source: ctx.src(critic.span),
          span: critic.span,
        });
        break;
      }
    }
    out.push({ name, args, span: o.span });
  }
  // One wrong objective is one error: the missing critic is reported only when nothing else was.
  if (kind === "implicit" && !out.some((o) => o.name === "adversarial") && ctx.diags.items.length === beforeObjectives)
    ctx.diags.error(
      "E0605",
      "an implicit model is trained against a critic: add `adversarial(critic = …)` to `fit`",
      fit.span,
      { hint: "write `fit adversarial(critic = mlp(hidden = [512, 256]))`" },
    );
  if (
    out.some((o) => o.name === "reconstruction") &&
    latents.length &&
    !out.some((o) => o.name === "adversarial" || o.name === "elbo") &&
    nonNormal.length
  ) {
    ctx.diags.warning(
      "W0609",
      "`reconstruction` alone does not match the codes to the prior; samples from p(z) may decode poorly",
      fit.span,
      { hint: "add `adversarial(on = z, critic = …)`" },
    );
  }
  // A discrete code with an encoder is in the language, but gm builds no network for it (gm train:
  // M0103): its AAE and VAE encode continuous codes. Said here so that gm check does not pass silently.
  const encoded = encoder ? new Set(encoder.outputs) : undefined;
  const discrete = encoded && latents.find((v) => outcomes(v.domain) !== null && encoded.has(v.offset));
  if (encoder && discrete) {
    const k = outcomes(discrete.domain)!;
    ctx.diags.warning(
      "W0611",
      `\`${discrete.name}\` is discrete (${domainName(discrete.domain)}) and has an encoder: gm train builds autoencoders (AAE, VAE) with continuous codes only`,
      encoder.span,
      {
        hint: `sum \`${discrete.name}\` out exactly (drop \`q(${discrete.name} | …)\` and \`fit\`), or use a continuous code with ${k} clusters: \`latent z : Normal[2]\`, \`p(z) = mixture(k = ${k}, radius = 2)\``,
      },
    );
  }
  return out;
}

/**
 * The variable `adversarial(critic = …)` judges when `on` is not written: the generator's image in
 * an implicit model, else the one observed variable. With several candidates there is no safe
 * guess (the first declared was once taken, so a label declared before the image got the critic):
 * E0610 asks for `on`.
 */
function defaultCriticTarget(ctx: ModelContext, o: A.FamilyRef): VariableIR | undefined {
  const generated = new Map<string, VariableIR>();
  for (const d of ctx.drafts)
    if (d.family === "implicit" && d.targets.length) {
      const v = ctx.varOf(d.targets[0]);
      generated.set(v.name, v);
    }
  const candidates = generated.size ? [...generated.values()] : ctx.vars.filter((v) => !v.latent);
  if (candidates.length === 1) return candidates[0];
  if (candidates.length === 0) return undefined;
  const names = candidates.map((v) => `\`${v.name}\``).join(", ");
  ctx.diags.error(
    "E0610",
    `\`adversarial(critic = …)\` does not say which variable the critic judges: ${generated.size ? "the generators make" : "the model observes"} ${names}`,
    o.span,
    {
      hint: `name it, e.g. \`adversarial(on = ${
        ctx.networks.some((nw) => nw.role === "posterior")
          ? (ctx.vars.find((v) => v.latent) ?? candidates[0]).name
          : candidates[0].name
      }, critic = …)\``,
    },
  );
  return undefined;
}

/** A value each train setting accepts, for hints. */
const TRAIN_EXAMPLES: Record<string, string> = {
  epochs: "10",
  batch: "64",
  lr: "0.001",
  seed: "0",
  critic_steps: "5",
  split: "[0.8, 0.2]",
  data: "mnist",
};

export function bindTrainBlock(ctx: ModelContext): TrainConfigIR {
  const blocks = ctx.m.body.filter((s): s is A.TrainBlock => s.kind === "Train");
  for (const extra of blocks.slice(1))
    ctx.diags.error("E0704", "a model has one `train { }` block", extra.span, {
      related: [{ message: "the first block", span: blocks[0].span }],
      hint: `put every setting in one block: \`train { ${blocks.flatMap((b) => b.entries.map(printTrainEntry)).join(" ")} }\``,
    });
  const cfg: { -readonly [K in keyof TrainConfigIR]: TrainConfigIR[K] } = {};
  const block = blocks[0];
  if (!block) return cfg;
  const seen = new Map<string, A.TrainEntry>();
  for (const e of block.entries) {
    const key = e.key.name;
    if (!(TRAIN_ENTRIES as readonly string[]).includes(key)) {
      const guess = suggest(key, TRAIN_ENTRIES);
      ctx.diags.error("E0701", `unknown train setting \`${key}\``, e.key.span, {
        hint: guess ? `did you mean \`${guess}\`?` : `the settings: ${TRAIN_ENTRIES.join(", ")}`,
      });
      continue;
    }
    if (seen.has(key)) {
      ctx.diags.error("E0703", `\`${key}\` is set twice`, e.key.span, {
        related: [{ message: "first set here", span: seen.get(key)!.span }],
        hint: `keep one: \`${printTrainEntry(seen.get(key)!)}\` or \`${printTrainEntry(e)}\``,
      });
      continue;
    }
    seen.set(key, e);
    const v = e.value;
    const num = (what: string, integer: boolean, min: number): number | undefined => {
      if (v.kind === "String" || v.kind === "List" || v.kind === "Call") {
        ctx.diags.error("E0702", `\`${key}\` must be ${what}`, v.span, {
          hint: `write e.g. \`${key} = ${TRAIN_EXAMPLES[key]}\``,
        });
        return undefined;
      }
      const x = integer ? evalSmallInt(v, ctx.env(), ctx.diags, `\`${key}\``) : evalReal(v, ctx.env(), ctx.diags);
      if (x === null) return undefined;
      if (x < min || (!integer && min === 0 && x === 0)) {
        ctx.diags.error("E0702", `\`${key}\` must be ${what}, found ${x}`, v.span, {
          hint: `write e.g. \`${key} = ${TRAIN_EXAMPLES[key]}\``,
        });
        return undefined;
      }
      return x;
    };
    switch (key) {
      case "epochs":
        cfg.epochs = num("a whole number ≥ 1", true, 1);
        break;
      case "batch":
        cfg.batch = num("a whole number ≥ 1", true, 1);
        break;
      case "lr":
        cfg.lr = num("a positive number", false, 0);
        break;
      case "seed":
        cfg.seed = num("a whole number ≥ 0", true, 0);
        break;
      case "critic_steps": {
        // Only a GAN alternates k critic steps with one generator step; anywhere else the setting
        // would be silently ignored (gm train's --critic-steps is refused there too, U0100).
        if (!ctx.drafts.some((f) => f.family === "implicit")) {
          const critic = ctx.networks.some((nw) => nw.role === "critic");
          ctx.diags.error(
            "E0705",
            critic
              ? `\`critic_steps\` sets a GAN's critic steps per generator step; model ${ctx.m.name.name}'s critic (on its codes) runs once every batch`
              : `\`critic_steps\` sets a GAN's critic steps per generator step; model ${ctx.m.name.name} has no critic`,
            e.span,
            {
              hint: "remove `critic_steps`; it applies to a GAN (`x = generator(z) by …` with `fit adversarial(critic = …)`)",
            },
          );
          break;
        }
        cfg.criticSteps = num("a whole number ≥ 1", true, 1);
        break;
      }
      case "split": {
        if (v.kind !== "List" || v.items.length !== 2) {
          ctx.diags.error("E0702", "`split` is [train, test], e.g. [0.8, 0.2]", v.span, {
            hint: "write two fractions that add up to 1: `split = [0.8, 0.2]`",
          });
          break;
        }
        const parts = v.items.map((it) =>
          it.kind === "String" || it.kind === "List" || it.kind === "Call" ? null : evalReal(it, ctx.env(), ctx.diags),
        );
        if (parts.some((p) => p === null || !(p > 0))) {
          ctx.diags.error("E0702", "`split` fractions must be positive numbers", v.span, {
            hint: "write two positive fractions that add up to 1: `split = [0.8, 0.2]`",
          });
          break;
        }
        const [a, b] = parts as number[];
        if (Math.abs(a + b - 1) > 1e-9) {
          ctx.diags.error("E0702", `\`split\` fractions must add up to 1, found ${a} + ${b} = ${a + b}`, v.span, {
            hint: `the test part is what the train part leaves: \`split = [${a < 1 ? `${a}, ${Number((1 - a).toFixed(12))}` : "0.8, 0.2"}]\``,
          });
          break;
        }
        cfg.split = [a, b];
        break;
      }
      case "data": {
        const ds = dataSourceFromValue(v, ctx.env(), ctx.diags);
        if (ds) cfg.data = ds;
        break;
      }
    }
  }
  return cfg;
}
