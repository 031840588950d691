/**
 * Which variable `adversarial(critic = …)` judges when `on` is not written
 * (src/compiler/objectives.ts, docs/language.md §7): the generator's image in a GAN whatever the
 * order of declarations, the one observed variable otherwise, and E0610 where several could be
 * meant. Found by a tester writing files from LANGUAGE.md: with a label `y` declared before the
 * image `x`, the critic was put on `y` (total 218 where 338 is right); this test failed on that
 * code with "expected [4] to equal [5, …, 20]".
 */
import { describe, expect, it } from "vitest";
import { compileText } from "../../src/compiler/compile.js";
import { mlpParams } from "../../src/compiler/count.js";
import { onlyModel } from "./helpers.js";

/** A GAN on a 4×4 image with a label declared before or after it. */
function gan(labelFirst: boolean, on = ""): string {
  const y = "  y : Categorical(10)\n  p(y) = table\n";
  const x = "  x : Real(0, 1)[4, 4]\n";
  return [
    "model G {",
    "  latent z : Normal[4]",
    (labelFirst ? y + x : x + y).trimEnd(),
    "  x = generator(z) by mlp(hidden = [8])",
    `  fit adversarial(${on}critic = mlp(hidden = [8]))`,
    "}",
    "",
  ].join("\n");
}

describe("adversarial(critic = …) without `on`", () => {
  it("judges the generator's image, whichever variable is declared first", () => {
    for (const labelFirst of [true, false]) {
      const ir = onlyModel(gan(labelFirst));
      const critic = ir.networks.find((nw) => nw.role === "critic")!;
      const x = ir.variables.find((v) => v.name === "x")!;
      expect(Array.from(critic.inputs)).toEqual(Array.from({ length: 16 }, (_, i) => x.offset + i));
      expect(critic.params).toBe(mlpParams([16, 8, 1]));
      // table 9 + generator 4 → 8 → 16 + critic 16 → 8 → 1
      expect(ir.params).toBe(9n + mlpParams([4, 8, 16]) + mlpParams([16, 8, 1]));
      expect(onlyModel(gan(labelFirst, "on = x, ")).params).toBe(ir.params);
    }
  });

  it("asks for `on` (E0610) where several observed variables could be meant", () => {
    const text = [
      "model A {",
      "  latent z : Normal[2]",
      "  y : Bernoulli[3]",
      "  x : Bernoulli[4]",
      "  p(x | z) = mlp(hidden = [8])",
      "  p(y | z) = mlp(hidden = [8])",
      "  q(z | x, y) = mlp(hidden = [8], deterministic)",
      "  fit reconstruction + adversarial(critic = mlp(hidden = [8]))",
      "}",
      "",
    ].join("\n");
    const r = compileText(text, "a.gm");
    expect(r.diagnostics.map((d) => d.code)).toEqual(["E0610"]);
    expect(r.diagnostics[0].hint).toContain("adversarial(on = z");
    const fixed = onlyModel(text.replace("adversarial(critic", "adversarial(on = z, critic"));
    expect(fixed.networks.find((nw) => nw.role === "critic")!.inputs.length).toBe(2);
  });
});
