/** What a dataset is, where it comes from and how it is split: printed by {@link describe}. */
export interface DatasetCard {
  /** Short name (`sotu`, `wikitext-103`, `mnist`, …). */
  name: string;
  /** One sentence. */
  description: string;
  /** Where the data comes from (npm package, folder, URL of the original). */
  source: string;
  /** Licence of the data. */
  license: string;
  /** Size in its natural unit (`1.79 M words`, `10,000 images`). */
  size: string;
  /** How the splits are made, and their sizes. */
  splits: Record<string, string>;
  /** Anything a user must know (preprocessing, caveats). */
  notes?: string[];
}

/** Formats a dataset card as plain text (one field per line). */
export function describe(card: DatasetCard): string {
  const lines = [
    `${card.name}: ${card.description}`,
    `  source:  ${card.source}`,
    `  licence: ${card.license}`,
    `  size:    ${card.size}`,
    '  splits:',
    ...Object.entries(card.splits).map(([k, v]) => `    ${k}: ${v}`),
  ];
  if (card.notes?.length) lines.push('  notes:', ...card.notes.map((n) => `    - ${n}`));
  return lines.join('\n');
}

/** Raised for a missing or malformed data folder or file; the message names the path and what is expected. */
export class DatasetError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DatasetError';
  }
}
