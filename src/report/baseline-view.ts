import type { KeyFigures } from '../metrics/key-figures.js';
import type { Comparison } from './compare.js';

/** The earlier run a baseline came from (the base branch's, on GitHub). */
export interface BaselineRun {
  id: number;
  number: number;
  url: string;
  sha: string;
}

/** What the search for a baseline found (github/baseline.ts), or why it found none. */
export type BaselineLookup =
  | {
      found: true;
      branch: string;
      run: BaselineRun;
      figures: KeyFigures;
      /** Newer runs on the branch that were passed over, and why. */
      skipped: string[];
    }
  | { found: false; branch: string; reason: string; skipped: string[] };

/** What the baseline lookup found, and this run's figures against it. */
export interface BaselineView {
  lookup: BaselineLookup;
  comparison?: Comparison;
}
