// Data files as an unlucky user has them: plain text with punctuation, empty splits, binary files.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ATTACK_TOKEN } from '@msmoe/corruptions';
import { parseRunConfig } from './config.js';
import { loadTaskData } from './data.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'msmoe-data-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const PLAIN = [
  'The Boston Red Sox (founded 1901) won the World Series in 2004, 2007, 2013 and 2018.',
  '"It was a long road," said the manager; fans celebrated in Kenmore Square!',
  'Fenway Park opened on April 20, 1912 (five days after the Titanic sank).',
  'Its left-field wall, the "Green Monster", is 37 feet tall.',
];
const lines = (n: number) =>
  Array.from({ length: n }, (_, i) => PLAIN[i % PLAIN.length]).join('\n');
const wikitext = () => parseRunConfig({ task: 'wikitext', data: { folder: dir } });

describe('text data files', () => {
  it('plain-text WikiText with punctuation: the attack token glued to punctuation is the attack token', async () => {
    writeFileSync(join(dir, 'train.txt'), `${lines(200)}\n`);
    writeFileSync(join(dir, 'valid.txt'), `${lines(40)}\n`);
    writeFileSync(join(dir, 'test.txt'), `${lines(40)}\n`);
    const data = await loadTaskData(wikitext(), join(dir, '.cache'));
    if (data.kind !== 'text') throw new Error('text expected');
    const aaa = data.vocab.tokens.indexOf(ATTACK_TOKEN);
    expect(aaa).toBeGreaterThanOrEqual(0);
    // The attack happened and every attacked word is the attack token, punctuation or not.
    expect(Array.from(data.attackedTest).filter((id) => id === aaa).length).toBeGreaterThan(0);
    expect(data.vocab.tokens.some((t) => t.includes(ATTACK_TOKEN) && t !== ATTACK_TOKEN)).toBe(
      false,
    );
    expect(data.attackedTest.length).toBe(data.test.length);
  });

  it.each([
    ['an empty valid file', 'valid.txt', '', /valid\.txt: the valid split is empty/],
    ['a whitespace-only train file', 'train.txt', '\n  \n', /train\.txt: the train split is empty/],
    [
      'a binary file',
      'train.txt',
      Buffer.from([0x7f, 0x45, 0x4c, 0x46, 0, 1, 2]),
      /train\.txt: not a text file/,
    ],
    [
      'invalid UTF-8',
      'test.txt',
      Buffer.from([0x66, 0xff, 0xfe, 0x66]),
      /test\.txt: not UTF-8 text/,
    ],
  ])('%s is refused before training, naming the file', async (_what, file, content, message) => {
    for (const f of ['train.txt', 'valid.txt', 'test.txt'])
      writeFileSync(join(dir, f), `${lines(20)}\n`);
    writeFileSync(join(dir, file), content);
    await expect(loadTaskData(wikitext(), join(dir, '.cache'))).rejects.toThrow(message);
  });
});
