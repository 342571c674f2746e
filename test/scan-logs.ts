import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';

/**
 * Runs after the whole vitest suite (`npm test`): every log line any test service wrote (test/helpers/app.ts
 * writes them under .tmp/test-logs) is scanned; an identity number or a phone number in a log fails the run.
 */
const LOG_DIR = join(import.meta.dirname, '../.tmp/test-logs');
const PERSONAL = [
  // A resident (or residence-permit) ID: region, a real-looking birth date, sequence, check character.
  /(?<![0-9A-Za-z])[1-8]\d{5}(?:19|20)\d{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])\d{3}[0-9Xx](?![0-9A-Za-z])/,
  // A mainland mobile number standing alone (not a run of digits inside a hex digest or an id).
  /(?<![0-9A-Za-z])1[3-9]\d{9}(?![0-9A-Za-z])/,
];

/** After the whole suite: no service log line may hold an identity number or a phone number (issue 3). */
async function scanLogsForPersonalData(): Promise<number> {
  const files = await readdir(LOG_DIR).catch(() => [] as string[]);
  let hits = 0;
  const where: string[] = [];
  for (const file of files) {
    const lines = (await readFile(join(LOG_DIR, file), 'utf8')).split('\n');
    for (const [index, line] of lines.entries()) {
      if (PERSONAL.some((re) => re.test(line))) { hits += 1; if (where.length < 5) where.push(`${file}:${index + 1}: ${line.replace(/\d/g, '#').slice(0, 200)}`); }
    }
  }
  if (hits > 0) process.stderr.write(`service logs of the test suite hold ${hits} line(s) with an identity number or phone number:\n${where.join('\n')}\n`);
  return hits;
}

const hits = await scanLogsForPersonalData();
process.stdout.write(`log scan: ${hits === 0 ? 'no personal data in service logs' : `${hits} line(s) with personal data`}\n`);
process.exitCode = hits === 0 ? 0 : 1;

/** The plain closing line CI reads: the vitest totals (from its JSON report), the log scan counted as one more test. */
const report = JSON.parse(await readFile(join(import.meta.dirname, '../.tmp/vitest.json'), 'utf8').catch(() => '{}')) as { numPassedTests?: number; numFailedTests?: number; numPendingTests?: number };
const passed = (report.numPassedTests ?? 0) + (hits === 0 ? 1 : 0);
const failed = (report.numFailedTests ?? 0) + (hits === 0 ? 0 : 1);
process.stdout.write(`tests: ${passed} passed, ${failed} failed, ${report.numPendingTests ?? 0} skipped\n`);
