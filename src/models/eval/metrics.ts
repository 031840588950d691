/**
 * Detection metrics for anomaly scores (`gm anomaly`): AUROC, AUPRC (average precision) and the
 * false-positive rate at a given true-positive rate.
 *
 * Convention: `positive` and `negative` are *anomaly scores* — higher means "more anomalous" — of
 * the anomalous (positive) and normal (negative) examples. A model's score is a log-likelihood
 * (higher is more normal), so callers pass its negation. Ties count half for AUROC (the
 * Mann–Whitney U statistic), and every threshold keeps tied examples together (a detector cannot
 * separate two equal scores), so all three metrics are invariant under a monotone change of score.
 */

/** A score with its class, for sorting. */
interface Scored {
  readonly s: number;
  readonly pos: boolean;
}

function checkScores(name: string, a: ArrayLike<number>): void {
  if (a.length === 0) throw new RangeError(`${name}: no scores`);
  for (let i = 0; i < a.length; i++) if (Number.isNaN(a[i])) throw new RangeError(`${name}: score ${i} is NaN`);
}

/** Positive and negative scores merged and sorted by descending score. */
function merged(positive: ArrayLike<number>, negative: ArrayLike<number>): Scored[] {
  checkScores("positive", positive);
  checkScores("negative", negative);
  const all: Scored[] = [];
  for (let i = 0; i < positive.length; i++) all.push({ s: positive[i], pos: true });
  for (let i = 0; i < negative.length; i++) all.push({ s: negative[i], pos: false });
  all.sort((a, b) => b.s - a.s);
  return all;
}

/**
 * The operating points of the detector "anomalous when score ≥ t", one per distinct score t in
 * descending order: cumulative true and false positives. Ties enter together.
 */
function operatingPoints(positive: ArrayLike<number>, negative: ArrayLike<number>): { tp: number[]; fp: number[] } {
  const all = merged(positive, negative);
  const tp: number[] = [];
  const fp: number[] = [];
  let t = 0;
  let f = 0;
  for (let i = 0; i < all.length;) {
    let j = i;
    while (j < all.length && all[j].s === all[i].s) {
      if (all[j].pos) t++;
      else f++;
      j++;
    }
    tp.push(t);
    fp.push(f);
    i = j;
  }
  return { tp, fp };
}

/**
 * Area under the ROC curve: P(score of a random positive > score of a random negative), ties
 * counting ½ — the trapezoidal area under the tie-grouped ROC curve. O((P + N) log(P + N)).
 */
export function auroc(positive: ArrayLike<number>, negative: ArrayLike<number>): number {
  const { tp, fp } = operatingPoints(positive, negative);
  const P = positive.length;
  const N = negative.length;
  let area = 0;
  let prevT = 0;
  let prevF = 0;
  for (let i = 0; i < tp.length; i++) {
    // Trapezoid between consecutive points: a tie group of t positives and f negatives adds
    // t·f/2 concordant-equivalent pairs, exactly the ½ per tied pair of the pair count.
    area += ((fp[i] - prevF) * (tp[i] + prevT)) / 2;
    prevT = tp[i];
    prevF = fp[i];
  }
  return area / (P * N);
}

/**
 * Area under the precision–recall curve as average precision: Σ over thresholds of
 * (recall_t − recall_{t−1}) · precision_t (scikit-learn's `average_precision_score`, the
 * step-wise form without interpolation). Positives are the anomalous examples.
 */
export function auprc(positive: ArrayLike<number>, negative: ArrayLike<number>): number {
  const { tp, fp } = operatingPoints(positive, negative);
  const P = positive.length;
  let ap = 0;
  let prevRecall = 0;
  for (let i = 0; i < tp.length; i++) {
    const recall = tp[i] / P;
    const precision = tp[i] / (tp[i] + fp[i]);
    ap += (recall - prevRecall) * precision;
    prevRecall = recall;
  }
  return ap;
}

/**
 * The false-positive rate at the first threshold (from the top) whose true-positive rate reaches
 * `tpr` (0.95 in the literature: "FPR at 95 % TPR"). Lower is better.
 */
export function fprAtTpr(positive: ArrayLike<number>, negative: ArrayLike<number>, tpr = 0.95): number {
  if (!(tpr > 0 && tpr <= 1)) throw new RangeError(`tpr must be in (0, 1], got ${tpr}`);
  const { tp, fp } = operatingPoints(positive, negative);
  const P = positive.length;
  const N = negative.length;
  for (let i = 0; i < tp.length; i++) if (tp[i] / P >= tpr - 1e-12) return fp[i] / N;
  return 1;
}

/** The three detection figures of `gm anomaly`, for anomaly scores (higher = more anomalous). */
export interface DetectionSummary {
  readonly auroc: number;
  readonly auprc: number;
  readonly fpr_at_95_tpr: number;
}

/** AUROC, AUPRC and FPR at 95 % TPR in one call. */
export function detectionSummary(anomalous: ArrayLike<number>, normal: ArrayLike<number>): DetectionSummary {
  return {
    auroc: auroc(anomalous, normal),
    auprc: auprc(anomalous, normal),
    fpr_at_95_tpr: fprAtTpr(anomalous, normal, 0.95),
  };
}
