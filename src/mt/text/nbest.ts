// The n-best of a text translated unit by unit (src/mt/text/document.ts): rank k joins the k-th
// hypothesis of every unit (its best where a unit has fewer), so alternatives stay whole texts;
// ranks go as deep as the unit with most hypotheses. The score treats the text as one sequence,
// Σ log-probs / (Σ lengths) ** lenpen with every unit's EOS counted, which for a single unit is
// that unit's own score; tokens and positional scores are the units' concatenated. Used by the
// server (src/server/translate-texts.ts) and by `resmlp mt translate` / `mt eval`
// (Translator.translateDocuments).

/** What is joined: a hypothesis of one unit. */
export interface UnitHypothesis {
  text: string;
  /** Length-normalised score (Σ positionalScores / positionalScores.length ** lenpen). */
  score: number;
  tokens: number[];
  /** Log-prob of every token, EOS included. */
  positionalScores: number[];
}

/**
 * Up to `nbest` hypotheses of the whole text, best first. `build` puts one text per unit back
 * into the document (assemble, or an HTML rewrite). Every unit must have a hypothesis.
 */
export async function joinNBest(
  units: readonly (readonly UnitHypothesis[])[],
  nbest: number,
  lenpen: number,
  build: (pick: (unit: number) => string) => string | Promise<string>,
): Promise<UnitHypothesis[]> {
  units.forEach((h, k) => {
    if (h.length === 0) throw new Error(`joinNBest: unit ${k} has no hypothesis`);
  });
  if (units.length === 0) return [{ text: await build(() => ''), score: 0, tokens: [], positionalScores: [] }];
  const ranks = Math.min(nbest, Math.max(...units.map((h) => h.length)));
  const out: UnitHypothesis[] = [];
  for (let r = 0; r < ranks; r++) {
    const chosen = units.map((h) => h[r] ?? h[0]!);
    const text = await build((k) => chosen[k]!.text);
    if (chosen.length === 1) {
      const h = chosen[0]!;
      out.push({ text, score: h.score, tokens: h.tokens, positionalScores: h.positionalScores });
      continue;
    }
    const positionalScores = chosen.flatMap((h) => h.positionalScores);
    const sum = positionalScores.reduce((a, b) => a + b, 0);
    out.push({ text, score: sum / positionalScores.length ** lenpen, tokens: chosen.flatMap((h) => h.tokens), positionalScores });
  }
  return out;
}
